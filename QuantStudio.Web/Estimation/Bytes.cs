using System.Globalization;

namespace QuantStudio.Web.Estimation;

/// <summary>Human-readable sizes for pages.</summary>
public static class Bytes
{
    public static string Format(double? bytes)
    {
        if (bytes is not { } b)
            return "–";
        string[] units = ["B", "kB", "MB", "GB"];
        var i = 0;
        while (b >= 1000 && i < units.Length - 1)
        {
            b /= 1000;
            i++;
        }
        return b.ToString(i == 0 ? "0" : "0.00", CultureInfo.InvariantCulture) + " " + units[i];
    }

    public static string Ratio(double? ratio) => ratio is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) + "×" : "–";

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";
}
