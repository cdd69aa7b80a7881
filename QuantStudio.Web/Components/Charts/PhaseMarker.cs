namespace QuantStudio.Web.Components.Charts;

/// <summary>A vertical line with a label at <see cref="X"/>: where a training phase (teacher, QKD's three phases) starts.</summary>
public sealed record PhaseMarker(double X, string Label);
