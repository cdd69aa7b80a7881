namespace QuantStudio.Core.Runs;

/// <summary>Where a run is in its life. Stored as the lower-case name.</summary>
public enum RunStatus
{
    Queued,
    Running,
    Finished,
    Failed,
    Cancelled,
    /// <summary>The server stopped (or crashed) while the run was training; it can be resumed.</summary>
    Interrupted,
}

public static class RunStatusNames
{
    public static string ToName(this RunStatus status) => status.ToString().ToLowerInvariant();

    public static RunStatus Parse(string name) =>
        Enum.TryParse<RunStatus>(name, ignoreCase: true, out var s) ? s : throw new FormatException($"unknown run status '{name}'");

    public static bool TryParse(string? name, out RunStatus status) =>
        Enum.TryParse(name, ignoreCase: true, out status) && Enum.IsDefined(status);

    /// <summary>Queued or running: the run may still emit events.</summary>
    public static bool IsActive(this RunStatus status) => status is RunStatus.Queued or RunStatus.Running;

    /// <summary>States from which a run can be resumed.</summary>
    public static bool IsResumable(this RunStatus status) => status is RunStatus.Interrupted or RunStatus.Cancelled or RunStatus.Failed;
}
