using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using QuantStudio.Tests.Web.Browser;

/// <summary>
/// N run pages (windows of one headless Chromium, each its own Blazor circuit) following one live run, opened one after
/// the other while it runs (each replays the history, then follows). Each page has a window of its own: Chromium runs
/// the renderer of a tab that is not the one shown at a lower priority (niced), and on a busy machine such a page falls
/// behind by tens of seconds, which measures Chromium's scheduling rather than the server. Each tab records, every
/// 10 ms, when its loss chart's trace grew; at the end every tab must hold every stored step point, and the time from an
/// event's time stamp (when the runner emitted it, right before the server stored it) to the first sample showing its
/// point is the update latency, counted for the points emitted once every page was open. The server's resident memory
/// is sampled before the pages open, once they are all open and while they follow; the machine's load average is read
/// at the same moments.
/// </summary>
internal static class PageFollowers
{
    // Plotly emits plotly_afterplot when it has drawn (after newPlot, react and extendTraces alike): the time a point is
    // on the screen, with no polling to load the browser.
    private const string Recorder = """
        const el = document.getElementById('chart-loss');
        window.qsSamples = [[Date.now(), el.data[0].x.length]];
        let last = el.data[0].x.length;
        el.on('plotly_afterplot', () => {
          const n = el.data && el.data.length ? el.data[0].x.length : 0;
          if (n !== last) { window.qsSamples.push([Date.now(), n]); last = n; }
        });
        """;

    public static async Task<int> RunAsync(Uri baseUri, HttpClient http, long runId, int pages, Func<long?> rssKb, int serverPid, Stopwatch clock)
    {
        var download = Path.Combine(Path.GetTempPath(), "qs-webbench-downloads-" + Guid.NewGuid().ToString("N"));
        var before = rssKb();
        var loadBefore = LoadAverage();
        using var browser = new HeadlessChromium(download, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows");
        var driver = browser.Driver;
        // A page busy drawing may take long to run a script; the bench waits for it rather than stop.
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(120);
        var handles = new List<string>();
        var opened = clock.Elapsed;
        // One window after the other, each interactive with its chart drawn before the next opens.
        for (var i = 0; i < pages; i++)
        {
            if (i > 0)
                driver.SwitchTo().NewWindow(WindowType.Window);
            driver.Navigate().GoToUrl(new Uri(baseUri, $"/runs/{runId}"));
            browser.WaitFor(d => d.FindElements(By.CssSelector("main[data-interactive=true]")).Count == 1, TimeSpan.FromSeconds(300), "an interactive page");
            browser.WaitFor(_ => browser.Script("const el = document.getElementById('chart-loss'); return !!(el && el.data);") is true,
                TimeSpan.FromSeconds(300), "the loss chart");
            browser.Script(Recorder);
            handles.Add(driver.CurrentWindowHandle);
        }
        var allOpen = DateTimeOffset.UtcNow;
        var cpuOpen = (Server: ProcessCpu.Seconds(serverPid, false), Browser: ProcessCpu.Seconds(browser.DriverProcessId, true), Wall: clock.Elapsed);
        var openRss = rssKb();
        var loadOpen = LoadAverage();
        Console.WriteLine($"pages: {pages} open after {(clock.Elapsed - opened).TotalSeconds:F1} s");
        var withPages = new List<long>();
        string status;
        while (true)
        {
            if (rssKb() is { } kb)
                withPages.Add(kb);
            var run = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}");
            status = run.GetProperty("run").GetProperty("status").GetString()!;
            if (status is not ("queued" or "running"))
                break;
            await Task.Delay(1000);
        }
        var runEnded = DateTimeOffset.UtcNow;
        var cpuEnd = (Server: ProcessCpu.Seconds(serverPid, false), Browser: ProcessCpu.Seconds(browser.DriverProcessId, true), Wall: clock.Elapsed);
        var loadEnd = LoadAverage();

        // The stored step metrics, in order, with the time each was emitted.
        var steps = new List<DateTimeOffset>();
        long after = 0;
        while (true)
        {
            var page = (await http.GetFromJsonAsync<JsonElement[]>($"/api/runs/{runId}/events?afterSeq={after}&limit=10000"))!;
            if (page.Length == 0)
                break;
            after = page[^1].GetProperty("seq").GetInt64();
            steps.AddRange(page.Where(e => e.GetProperty("type").GetString() == "step_metrics").Select(e => e.GetProperty("time").GetDateTimeOffset()));
        }

        // Every page ends with every stored point (the frames have caught up once the trace stops growing).
        var complete = 0;
        var latencies = new List<double>();
        var perPage = new List<string>();
        var finals = new List<long>();
        foreach (var handle in handles)
        {
            driver.SwitchTo().Window(handle);
            try
            {
                browser.WaitFor(_ => Convert.ToInt64(browser.Script("const el = document.getElementById('chart-loss'); return el.data[0].x.length;"), CultureInfo.InvariantCulture) >= steps.Count,
                    TimeSpan.FromSeconds(30), "every point");
            }
            catch (WebDriverTimeoutException)
            {
            }
            var samples = ((IEnumerable<object>)browser.Script("return window.qsSamples;")!)
                .Select(s => ((IReadOnlyList<object>)s).Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
            var final = (long)samples[^1][1];
            finals.Add(final);
            if (final == steps.Count)
                complete++;
            // Point k is drawn at the first sample holding more than k points; only points emitted once every page was open count.
            var first = (int)samples[0][1];
            var s = 0;
            var pageLatencies = new List<double>();
            for (var k = first; k < Math.Min(final, steps.Count); k++)
            {
                while (s < samples.Count && samples[s][1] <= k)
                    s++;
                if (s == samples.Count)
                    break;
                if (steps[k] > allOpen)
                    pageLatencies.Add(samples[s][0] - steps[k].ToUnixTimeMilliseconds());
            }
            latencies.AddRange(pageLatencies);
            pageLatencies.Sort();
            perPage.Add(pageLatencies.Count == 0 ? "-" : $"{pageLatencies[pageLatencies.Count / 2]:F0}/{pageLatencies[^1]:F0}");
        }
        latencies.Sort();
        if (latencies.Count == 0)
            Console.WriteLine("no step point was emitted with every page open: give the run more --seconds than the pages take to open");
        double Pct(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
        static string Mb(double kb) => (kb / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " MB";

        Console.WriteLine($"run {runId}: {status}, {steps.Count} step points stored");
        Console.WriteLine($"pages complete (every stored point on the loss chart): {complete}/{pages}; points per page: {string.Join(" ", finals)}");
        Console.WriteLine($"update latency (event emitted and stored to drawn, {latencies.Count} points over the {(runEnded - allOpen).TotalSeconds:F0} s " +
                          $"with all {pages} pages open): p50 {Pct(0.5):F0} ms, p90 {Pct(0.9):F0} ms, p95 {Pct(0.95):F0} ms, p99 {Pct(0.99):F0} ms, " +
                          $"max {(latencies.Count > 0 ? latencies[^1] : double.NaN):F0} ms");
        Console.WriteLine($"per page, in the order opened, p50/max ms: {string.Join(" ", perPage)}");
        if (before is { } b && withPages.Count > 0)
        {
            Console.WriteLine($"server RSS: {Mb(b)} before the pages, {(openRss is { } o ? Mb(o) : "?")} once all were open, {Mb(withPages.Max())} at most " +
                              $"while {pages} pages followed");
            Console.WriteLine($"per page: {(openRss is { } o2 ? Mb((o2 - b) / (double)pages) : "?")} (all open), {Mb((withPages.Max() - b) / (double)pages)} " +
                              "(at most; the run's own growth included)");
        }
        var wall = (cpuEnd.Wall - cpuOpen.Wall).TotalSeconds;
        Console.WriteLine($"CPU while all {pages} pages followed ({Environment.ProcessorCount} cores): server {100 * (cpuEnd.Server - cpuOpen.Server) / wall:F0}% of a core, " +
                          $"Chromium {100 * (cpuEnd.Browser - cpuOpen.Browser) / wall:F0}% of a core");
        Console.WriteLine($"load average (1, 5, 15 min): {loadBefore} before the pages, {loadOpen} once all were open, {loadEnd} at the run's end");
        try
        {
            Directory.Delete(download, true);
        }
        catch (IOException)
        {
        }
        return complete == pages && status == "finished" ? 0 : 1;
    }

    /// <summary>CPU time (user + system) of a process, and with <paramref name="descendants"/> of every process under it, from /proc.</summary>
    private static class ProcessCpu
    {
        public static double Seconds(int root, bool descendants)
        {
            var stats = new Dictionary<int, (int Parent, long Ticks)>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid))
                    continue;
                try
                {
                    // pid (comm) state ppid ... utime stime: fields 4, 14 and 15, counted after the command's closing parenthesis.
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    stats[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture),
                        long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
                {
                    // The process ended while it was read.
                }
            }
            var included = new HashSet<int> { root };
            if (descendants)
            {
                var added = true;
                while (added)
                {
                    added = false;
                    foreach (var (pid, s) in stats)
                        if (included.Contains(s.Parent) && included.Add(pid))
                            added = true;
                }
            }
            // Linux counts in clock ticks of 1/100 s (USER_HZ).
            return included.Sum(p => stats.TryGetValue(p, out var s) ? s.Ticks : 0) / 100.0;
        }
    }

    /// <summary>The machine's load average over 1, 5 and 15 minutes (/proc/loadavg).</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
