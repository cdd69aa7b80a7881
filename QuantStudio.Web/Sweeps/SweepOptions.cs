using QuantStudio.Core.Sweeps;

namespace QuantStudio.Web.Sweeps;

/// <summary>The <c>QuantStudio:Sweeps</c> section of appsettings.json.</summary>
public sealed class SweepOptions
{
    public const string Section = "QuantStudio:Sweeps";

    /// <summary>The most runs one sweep may make (the product of its axes' value counts).</summary>
    public int MaxRuns { get; set; } = SweepExpander.DefaultMaxRuns;
}
