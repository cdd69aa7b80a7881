using System.Globalization;

namespace QuantStudio.Core.Compression;

/// <summary>Sizes in decimal units (B, kB, MB, GB) as pages and tables show them: whole bytes, else two decimals.</summary>
public static class ByteSizeText
{
    public static string Format(double? bytes, string missing)
    {
        if (bytes is not { } b)
            return missing;
        string[] units = ["B", "kB", "MB", "GB"];
        var i = 0;
        while (b >= 1000 && i < units.Length - 1)
        {
            b /= 1000;
            i++;
        }
        return b.ToString(i == 0 ? "0" : "0.00", CultureInfo.InvariantCulture) + " " + units[i];
    }
}
