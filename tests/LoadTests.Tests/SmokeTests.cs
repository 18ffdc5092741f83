using System.Text.Json;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Scenario;
using Xunit.Abstractions;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>
/// Short runs of the <c>calls</c> scenario through the runner's public entry against the real app model: the reports
/// exist and agree with each other, and the exit code follows the thresholds.
/// </summary>
public sealed class SmokeTests(AppModelFixture fixture, ITestOutputHelper output) : IClassFixture<AppModelFixture>, IDisposable
{
    private readonly string _reports = Path.Combine(Path.GetTempPath(), "pgvideochat-loadtests-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Two_calls_deliver_media_and_write_consistent_reports()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var writer = new TestOutputWriter(output);
        var options = new CallsRunOptions
        {
            Calls = 2,
            WarmUp = TimeSpan.FromSeconds(5),
            Duration = TimeSpan.FromSeconds(15),
            // Lenient enough for a busy 2-core CI box, and for one paused second of a 16-s run (~6 % of the frames):
            // seen once in CI (2026-11-29) as p99 843 ms with the runner's own once-a-second sampling skipping that
            // second too. Broken latency (frames seconds late) still fails it; the exit code's failing side is
            // An_impossible_threshold_fails_the_run_through_the_command_line.
            Thresholds = new Thresholds(MaxP99Ms: 2_000, MinDeliveryPercent: 99),
            Target = fixture.Target,
            Output = new OutputOptions { ReportsDirectory = _reports, Writer = writer },
        };

        var result = await LoadRunner.RunCallsAsync(options, timeout.Token);
        var summary = result.Summary;

        // Every report of the session exists and is not empty.
        var session = Path.GetFileName(result.ReportDirectory);
        foreach (var file in new[] { session + ".txt", session + ".md", session + ".csv", session + ".html", "summary.json", "timeline.csv" })
        {
            var path = Path.Combine(result.ReportDirectory, file);
            Assert.True(File.Exists(path), $"{file} is missing");
            Assert.True(new FileInfo(path).Length > 0, $"{file} is empty");
        }

        // summary.json says what the returned summary says.
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, "summary.json"), timeout.Token));
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("calls").GetInt32());
        Assert.Equal(summary.Frames["video"].Delivered, root.GetProperty("frames").GetProperty("video").GetProperty("delivered").GetInt64());
        Assert.Equal(result.ExitCode, root.GetProperty("exitCode").GetInt32());
        Assert.True(root.GetProperty("slot").TryGetProperty("maxLagBytes", out _));
        Assert.True(root.GetProperty("relayPeakRssBytes").GetInt64() > 0);

        // The host section names the started Postgres's own data directory and the mount that holds it.
        var host = root.GetProperty("host");
        var dataDirectory = host.GetProperty("dataDirectory").GetString()!;
        Assert.True(File.Exists(Path.Combine(dataDirectory, "PG_VERSION")), $"{dataDirectory} is not a Postgres data directory");
        Assert.StartsWith(host.GetProperty("dataMountPoint").GetString()!.TrimEnd('/'), dataDirectory, StringComparison.Ordinal);
        Assert.Equal(
            host.GetProperty("dataMountOptions").GetString()!.Split(',').Contains("discard"),
            host.GetProperty("onlineDiscard").GetBoolean());

        // Counts add up: every expected delivery was either delivered or lost, and each frame had one recipient.
        foreach (var kind in new[] { "video", "audio" })
        {
            var frames = summary.Frames[kind];
            Assert.True(frames.Sent > 0, $"no {kind} frame was sent");
            Assert.True(frames.Delivered > 0, $"no {kind} frame was delivered");
            Assert.Equal(frames.Sent * (summary.GroupSize - 1), frames.ExpectedDeliveries);
            Assert.Equal(frames.ExpectedDeliveries, frames.Delivered + frames.Lost);
            Assert.Equal(frames.Delivered, summary.LatencyMs[kind].Count);
            Assert.True(summary.LatencyMs[kind].P50 <= summary.LatencyMs[kind].P99);
        }

        // About 15 s of 2 calls × 2 senders at 15 fps video and 25 fps audio (900 and 1500): never more than the
        // schedule, and what a starved runner did not send it reported as skipped (SkippedFrames counts both kinds over
        // the whole run, warm-up included, so it only bounds from below).
        var skipped = summary.Runner!.SkippedFrames;
        Assert.InRange(summary.Frames["video"].Sent, 1, 1000);
        Assert.True(summary.Frames["video"].Sent + skipped >= 800, $"video: {summary.Frames["video"].Sent} sent and {skipped} skipped of ~900");
        Assert.InRange(summary.Frames["audio"].Sent, 1, 1600);
        Assert.True(summary.Frames["audio"].Sent + skipped >= 1000, $"audio: {summary.Frames["audio"].Sent} sent and {skipped} skipped of ~1500");

        // The CSV has NBomber's header and one row per step, agreeing with the summary.
        var csv = await File.ReadAllLinesAsync(Path.Combine(result.ReportDirectory, session + ".csv"), timeout.Token);
        Assert.Equal(ReportWriter.CsvHeader, csv[0]);
        var videoRow = csv.Single(l => l.Split(',')[4] == "video").Split(',');
        Assert.Equal(summary.Frames["video"].ExpectedDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture), videoRow[5]);
        Assert.Equal(summary.Frames["video"].Delivered.ToString(System.Globalization.CultureInfo.InvariantCulture), videoRow[6]);

        // The timeline can be lined up with other logs (wall-clock time per second) and splits latency at the relay:
        // while frames flow, the relay's own forward time and commit round trip are there and below end to end.
        var timeline = await File.ReadAllLinesAsync(Path.Combine(result.ReportDirectory, "timeline.csv"), timeout.Token);
        var header = timeline[0].Split(',').ToList();
        var (utc, phase, p99, forward, commit) = (header.IndexOf("utc"), header.IndexOf("phase"), header.IndexOf("video_p99_ms"),
            header.IndexOf("relay_forward_mean_ms"), header.IndexOf("ingest_commit_mean_ms"));
        var loadRows = timeline.Skip(1).Select(l => l.Split(',')).Where(r => r[phase] == "load").ToList();
        Assert.NotEmpty(loadRows);
        Assert.All(loadRows, r => Assert.True(DateTimeOffset.TryParse(r[utc], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            && Math.Abs((DateTimeOffset.UtcNow - at).TotalMinutes) < 10, $"utc '{r[utc]}' is not this run's time"));
        double Value(string[] row, int column) => double.Parse(row[column], System.Globalization.CultureInfo.InvariantCulture);
        var measured = loadRows.Where(r => r[forward].Length > 0 && r[commit].Length > 0).ToList();
        Assert.True(measured.Count >= loadRows.Count / 2, $"only {measured.Count} of {loadRows.Count} load seconds have the relay's forward and commit means");
        // Each frame's forward time contains its batch's commit, and end to end contains the forward time.
        var (meanCommit, meanForward, meanP99) = (measured.Average(r => Value(r, commit)), measured.Average(r => Value(r, forward)), measured.Average(r => Value(r, p99)));
        Assert.True(meanCommit > 0 && meanCommit <= meanForward && meanForward <= meanP99, $"commit {meanCommit} ms, forward {meanForward} ms, end-to-end p99 {meanP99} ms");

        // pg_stat_wal is read each second (the AppHost's Postgres times its WAL I/O): a commit waits for its WAL's sync,
        // so the sync is part of the commit round trip; pg_wal holds at least the current segment.
        var (syncMean, segments) = (header.IndexOf("wal_sync_mean_ms"), header.IndexOf("wal_segments"));
        var synced = loadRows.Where(r => r[syncMean].Length > 0).ToList();
        Assert.True(synced.Count >= loadRows.Count / 2, $"only {synced.Count} of {loadRows.Count} load seconds have the WAL's sync time");
        var meanSync = synced.Average(r => Value(r, syncMean));
        Assert.True(meanSync > 0 && meanSync <= meanCommit, $"WAL sync {meanSync} ms, commit {meanCommit} ms");
        Assert.All(loadRows, r => Assert.True(Value(r, segments) >= 1, $"wal_segments '{r[segments]}'"));
        Assert.True(root.GetProperty("slot").GetProperty("meanWalSyncMs").GetDouble() > 0);

        // Steal (CPU the hypervisor took) is read each second: part of the machine's busy time, and in the summary.
        var (steal, machineCpu) = (header.IndexOf("steal_pct"), header.IndexOf("machine_cpu_pct"));
        var stealRows = loadRows.Where(r => r[steal].Length > 0 && r[machineCpu].Length > 0).ToList();
        Assert.True(stealRows.Count >= loadRows.Count / 2, $"only {stealRows.Count} of {loadRows.Count} load seconds have steal");
        Assert.All(stealRows, r => Assert.True(Value(r, steal) >= 0 && Value(r, steal) <= Value(r, machineCpu) + 0.1, $"steal {r[steal]} %, machine {r[machineCpu]} %"));
        var stealMean = root.GetProperty("stealMeanPercent").GetDouble();
        Assert.InRange(stealMean, 0, root.GetProperty("stealPeakPercent").GetDouble());
        Assert.True(stealMean <= root.GetProperty("machineMeanCpuPercent").GetDouble());

        // The text report is NBomber-shaped; the HTML carries its charts inline.
        var text = await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, session + ".txt"), timeout.Token);
        Assert.Contains("scenario: calls", text, StringComparison.Ordinal);
        Assert.Contains("keep_constant, copies: 2", text, StringComparison.Ordinal);
        Assert.Contains("latency percentile (ms)", text, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, session + ".html"), timeout.Token);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);

        // The exit code follows the thresholds.
        Assert.Equal(summary.Thresholds!.Passed ? 0 : 1, result.ExitCode);
        Assert.True(summary.Thresholds.Passed, "the lenient thresholds failed: " + string.Join("; ", summary.Thresholds.Failures));
    }

    [Fact]
    public async Task An_impossible_threshold_fails_the_run_through_the_command_line()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var target = fixture.Target;
        string[] args =
        [
            "run", "--calls", "1", "--warm-up", "2s", "--duration", "5s", "--p99", "0.001", "--delivery", "99",
            "--relay-url", target.RelayUrl!.ToString(), "--connection-string", target.ConnectionString!,
            "--relay-pid", target.RelayPid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--reports", _reports, "--session", "impossible", "--plain",
        ];

        var exitCode = await LoadRunner.MainAsync(args, timeout.Token);

        Assert.Equal(1, exitCode);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_reports, "impossible", "summary.json"), timeout.Token));
        var thresholds = json.RootElement.GetProperty("thresholds");
        Assert.False(thresholds.GetProperty("passed").GetBoolean());
        Assert.Contains(thresholds.GetProperty("failures").EnumerateArray(), f => f.GetString()!.Contains("p99", StringComparison.Ordinal));
        Assert.True(json.RootElement.GetProperty("frames").GetProperty("video").GetProperty("delivered").GetInt64() > 0);
    }

    [Fact]
    public async Task Capacity_repeated_with_a_baseline_states_the_relay_as_a_ratio_of_the_same_postgres()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var options = new CapacityOptions
        {
            Start = 1,
            Step = 1,
            Max = 1,
            Hold = TimeSpan.FromSeconds(5),
            Settle = TimeSpan.FromSeconds(1),
            Baseline = TimeSpan.FromSeconds(3),
            Repeat = 2,
            Calls = new CallsRunOptions
            {
                WarmUp = TimeSpan.FromSeconds(3),
                // The level must hold: this test is about the ratio, and one stalled second of a 5-s hold on a shared
                // CI box would otherwise decide it (seen once: 565 ms).
                Thresholds = new Thresholds(MaxP99Ms: 5_000, MinDeliveryPercent: 95),
                Target = fixture.Target,
                Output = new OutputOptions { ReportsDirectory = _reports, Writer = new TestOutputWriter(output), SessionId = "capacity" },
            },
        };

        var result = await LoadRunner.RunCapacityAsync(options, timeout.Token);
        var summary = result.Summary;

        Assert.Equal(1, summary.Capacity);
        Assert.Equal([1, 2], summary.Repetitions.Select(r => r.Repetition));
        Assert.All(summary.Repetitions, r => Assert.Equal(1, r.Capacity));
        Assert.All(summary.Repetitions, r => Assert.True(r.FinalDrain.Drained, $"search {r.Repetition} did not drain"));
        Assert.Equal([1, 2], summary.Levels.Select(l => l.Repetition)); // the second search starts again from --start
        Assert.Equal("capacity-baseline", summary.BaselineSessionId);
        Assert.True(summary.BaselineCalls > 0, "the baseline wrote no rows");
        Assert.Equal(Math.Round(summary.Capacity / summary.BaselineCalls!.Value, 3), summary.RatioToBaseline); // 1:1 calls
        using var baseline = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_reports, "capacity-baseline", "summary.json"), timeout.Token));
        var fastest = baseline.RootElement.GetProperty("phases").EnumerateArray().MaxBy(p => p.GetProperty("equivalentCalls").GetDouble());
        Assert.Equal(fastest.GetProperty("name").GetString(), summary.BaselinePhase);
        Assert.Equal(summary.BaselineCalls, fastest.GetProperty("equivalentCalls").GetDouble());
        Assert.All(summary.Repetitions, r => Assert.Equal(summary.RatioToBaseline, r.RatioToBaseline));
        var markdown = await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, "capacity.md"), timeout.Token);
        Assert.Contains("ratio to the substrate baseline", markdown, StringComparison.Ordinal);
        Assert.Contains("the median of 2 searches (1, 1)", markdown, StringComparison.Ordinal);
        Assert.Contains("r2_calls_1", markdown, StringComparison.Ordinal);

        // The warm-up runs once, before the first search's first level.
        var phases = (await File.ReadAllLinesAsync(Path.Combine(result.ReportDirectory, "timeline.csv"), timeout.Token))
            .Skip(1).Select(line => line.Split(',')[1]).ToList();
        Assert.Contains("warm-up", phases);
        Assert.True(phases.LastIndexOf("warm-up") < phases.IndexOf("r1 hold 1"), $"phases: {string.Join(" | ", phases.Distinct())}");
    }

    [Fact]
    public async Task Capacity_with_given_levels_measures_each_even_after_one_broke_and_states_the_cost_of_a_call()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var options = new CapacityOptions
        {
            Levels = [1, 2],
            Hold = TimeSpan.FromSeconds(4),
            Settle = TimeSpan.FromSeconds(1),
            Calls = new CallsRunOptions
            {
                WarmUp = TimeSpan.FromSeconds(2),
                // Every level breaks this: the second is still measured, which is what --levels is for.
                Thresholds = new Thresholds(MaxP99Ms: 0.001, MinDeliveryPercent: 99.9),
                Target = fixture.Target,
                Output = new OutputOptions { ReportsDirectory = _reports, Writer = new TestOutputWriter(output), SessionId = "cost" },
            },
        };

        var result = await LoadRunner.RunCapacityAsync(options, timeout.Token);
        var summary = result.Summary;

        Assert.Equal([1, 2], summary.Levels.Select(l => l.Calls));
        Assert.All(summary.Levels, l => Assert.False(l.Passed));
        Assert.Equal(0, summary.Capacity);
        Assert.Equal(CallsRunner.ExitThresholdsFailed, result.ExitCode);
        Assert.Equal([1, 2], summary.Costs.Select(c => c.Calls));
        Assert.All(summary.Costs, c =>
        {
            Assert.True(c.RelayCpuMs > 0 && c.PostgresCpuMs > 0 && c.RunnerCpuMs > 0, $"CPU per call-second: {c}");
            Assert.True(c.WalsenderCpuMs >= 0 && c.WalsenderCpuMs <= c.PostgresCpuMs, $"walsenders are part of Postgres: {c}");
            Assert.True(c.WalBytes > 10_000, $"a call writes its frames' WAL (~0.5 MB/s): {c}");
            Assert.True(c.DiskWriteBytes >= 0, $"disk writes: {c}");
        });

        var markdown = await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, "cost.md"), timeout.Token);
        Assert.Contains("cost of one call per second, by level", markdown, StringComparison.Ordinal);
        Assert.Contains("measured every level of --levels", markdown, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(result.ReportDirectory, "cost.html"), timeout.Token);
        Assert.Contains("CPU per call-second", html, StringComparison.Ordinal);
        var timeline = await File.ReadAllLinesAsync(Path.Combine(result.ReportDirectory, "timeline.csv"), timeout.Token);
        Assert.Contains("disk_write_bytes_per_s", timeline[0].Split(','));
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_reports))
            {
                Directory.Delete(_reports, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
