namespace QuantStudio.Web.Options;

/// <summary>The <c>QuantStudio</c> section of appsettings.json.</summary>
public sealed class QuantStudioOptions
{
    public const string Section = "QuantStudio";

    /// <summary>Holds quantstudio.db, runs/&lt;id&gt;/, uploads/ and datasets/. Relative paths are taken from the working directory.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>How many runs train at the same time.</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>Where the server listens; loopback by default. A non-loopback address requires <see cref="ApiKey"/>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5000";

    /// <summary>Largest accepted upload (a teacher's safetensors), in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// When set, the REST API and the hub require the header <c>X-Api-Key</c> (or the login cookie the
    /// login page sets), and pages require that login. Required when listening beyond loopback.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Host names the server answers to besides localhost, 127.0.0.1, [::1] and the addresses it is bound to (the names
    /// other machines use to reach a keyed server, say). "*" accepts any Host: only behind a proxy that checks it.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>Live charts receive at most this many step metrics per second per run (see RunEventThinning).</summary>
    public double LiveStepMetricsPerSecond { get; set; } = 4;

    /// <summary>Live frames are sent at most this often, in milliseconds.</summary>
    public int LiveFrameMilliseconds { get; set; } = 250;

    /// <summary>Runs emit a simulated event stream instead of training (page development, browser tests). Off by default.</summary>
    public bool SimulatedRunner { get; set; }

    /// <summary>The simulated runner's pause before each step, in milliseconds (tests and the load bench slow it down or speed it up).</summary>
    public int SimulatedStepMilliseconds { get; set; } = 50;

    /// <summary>Steps per epoch of the simulated runner.</summary>
    public int SimulatedStepsPerEpoch { get; set; } = 40;

    /// <summary>
    /// Distributed mode (<c>QuantStudio:Distributed</c>): runs stored in PostgreSQL and trained by <c>quantstudio worker</c>
    /// processes fed by a RabbitMQ queue. Unset, the app is embedded (SQLite, runs trained in this process). See docs/scale-out.md.
    /// </summary>
    public QuantStudio.Core.Distributed.DistributedOptions Distributed { get; set; } = new();

    public string ResolvedDataDirectory => Path.GetFullPath(DataDirectory);
    public string RunsDirectory => Path.Combine(ResolvedDataDirectory, "runs");
    public string UploadsDirectory => Path.Combine(ResolvedDataDirectory, "uploads");
    public string DatabasePath => Path.Combine(ResolvedDataDirectory, "quantstudio.db");
    public string RunDirectory(long runId) => Path.Combine(RunsDirectory, runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
