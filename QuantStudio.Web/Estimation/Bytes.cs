using System.Globalization;

namespace QuantStudio.Web.Estimation;

/// <summary>Human-readable sizes for pages.</summary>
public static class Bytes
{
    public static string Format(double? bytes) => QuantStudio.Core.Compression.ByteSizeText.Format(bytes, "–");

    public static string Ratio(double? ratio) => ratio is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) + "×" : "–";

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "–";
}
