using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.LoadTests.Target;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>The outcome of a command: exit code, where the reports are, and the summary that went to summary.json.</summary>
public sealed record RunResult<TSummary>(int ExitCode, string ReportDirectory, IReadOnlyList<string> Files, TSummary Summary);

/// <summary>How the slot drained once the load stopped.</summary>
internal sealed record DrainResult(long? LagAtStop, long? FinalLag, double? DrainSeconds, bool Drained, double? LastFrameSeconds, string Source);

/// <summary>The <c>calls</c> scenario end to end: warm-up, load simulations, drain, reports, thresholds.</summary>
internal static class CallsRunner
{
    public const int ExitPassed = 0;
    public const int ExitThresholdsFailed = 1;
    public const int ExitError = 2;

    public static async Task<RunResult<CallsSummary>> RunAsync(CallsRunOptions options, CancellationToken cancellationToken)
    {
        var sessionId = options.Output.SessionId ?? ReportWriter.NewSessionId();
        var directory = Path.Combine(ReportWriter.ReportsRoot(options.Output.ReportsDirectory), sessionId);
        var startedAt = DateTimeOffset.Now;
        await using var progress = ProgressView.Create(options.Output);
        var timeline = options.Timeline();
        Validate(options, timeline);

        progress.Log($"session {sessionId}: scenario calls, {string.Join("; ", timeline)}, group size {options.GroupSize}, warm-up {Durations.Format(options.WarmUp)}");
        var media = CreateMedia(options.Media, progress.Log);
        await using var target = await LoadTarget.OpenAsync(options.Target, progress.Log, cancellationToken);
        var host = HostFacts.Report(target.PostgresPid, progress.Log);
        await using var engine = new CallsEngine(target.RelayUri, media, options, progress.Log);
        var status = string.Empty;
        await using var sampler = new Sampler(
            target, engine.TakeInterval, () => (engine.EstablishedCalls, engine.Participants), s => progress.Update(s, status));
        progress.Start($"PgVideoChat load: calls ({sessionId})");
        sampler.Start();

        // Warm-up: the first level's calls (one call before a ramp), media flowing, nothing counted.
        var warmCalls = timeline[0].Kind == LoadSimulationKind.KeepConstant ? timeline[0].Calls : Math.Min(1, timeline[0].Calls);
        sampler.Phase = "warm-up";
        status = $"setting up {warmCalls} calls";
        await engine.EnsureCallsAsync(warmCalls, cancellationToken);
        progress.Log($"warm-up: {engine.EstablishedCalls} calls up ({engine.SetupFailures} set-up failures); media flows for {Durations.Format(options.WarmUp)}");
        status = "warm-up";
        await Task.Delay(options.WarmUp, cancellationToken);

        sampler.Phase = "load";
        var window = engine.OpenWindow("calls");
        var metricsAtOpen = sampler.LastMetrics;
        var loadStart = Stopwatch.GetTimestamp();
        var maxCalls = await RunTimelineAsync(engine, timeline, warmCalls, s => status = s, cancellationToken);
        CallsEngine.CloseWindow(window);
        await engine.StopSendingAsync();
        progress.Log($"load stopped after {Stopwatch.GetElapsedTime(loadStart).TotalSeconds:0.0} s; measuring the drain");

        sampler.Phase = "drain";
        status = "drain";
        var drain = await MeasureDrainAsync(target, engine, window, options, cancellationToken);
        engine.FreezeWindow(window);
        progress.Log(drain.Drained
            ? $"slot drained in {drain.DrainSeconds:0.00} s (lag {ProgressView.Bytes(drain.LagAtStop)} at stop)"
            : $"slot did not drain within {options.DrainTimeout.TotalSeconds:0} s (lag {ProgressView.Bytes(drain.FinalLag)})");

        var samples = sampler.Samples;
        var relayCounters = sampler.LastMetrics;
        var flows = engine.Flows();
        var errors = engine.Errors;
        var disconnects = engine.Disconnects();
        await sampler.DisposeAsync();
        await progress.StopAsync();
        status = "teardown";
        await engine.TeardownAsync();

        var summary = BuildSummary(options, window, maxCalls, samples, drain, engine, flows, errors, disconnects, relayCounters) with
        {
            RelayInternals = Internals(metricsAtOpen, relayCounters, window.Duration.TotalSeconds),
            SessionId = sessionId,
            Target = target.Description,
            StartedAt = startedAt,
            Host = host,
        };
        var outcome = Evaluate(summary, options.Thresholds);
        summary = summary with { Thresholds = outcome, ExitCode = outcome.Passed ? ExitPassed : ExitThresholdsFailed };

        var model = new ReportModel
        {
            Command = "run",
            SessionId = sessionId,
            TestSuite = options.Output.TestSuite,
            TestName = "calls",
            Target = target.Description,
            StartedAt = startedAt,
            Scenarios = [Scenario("calls", window, timeline)],
            Sections = Sections(summary),
            Charts = Charts(samples),
            Thresholds = options.Thresholds,
            Passed = outcome.Passed,
            Failures = outcome.Failures,
            Summary = summary,
            Timeline = TimelineRows(samples),
        };
        var files = ReportWriter.Write(model, directory);
        PrintSummary(progress, summary, directory);
        return new RunResult<CallsSummary>(summary.ExitCode, directory, files, summary);
    }

    internal static void Validate(CallsRunOptions options, IReadOnlyList<LoadSimulation> timeline)
    {
        if (options.GroupSize is < 2 or > Protocol.ProtocolLimits.MaxCallParticipants)
        {
            throw new ArgumentException($"--group-size must be 2..{Protocol.ProtocolLimits.MaxCallParticipants}.");
        }

        if (timeline.Count == 0 || timeline.All(s => s.Calls == 0))
        {
            throw new ArgumentException("The load simulations run no calls.");
        }

        if (options.Media.VideoFps > Protocol.ProtocolLimits.MaxVideoFps || (options.Media.AudioInterval > TimeSpan.Zero && 1 / options.Media.AudioInterval.TotalSeconds > Protocol.ProtocolLimits.MaxAudioFps))
        {
            throw new ArgumentException($"The relay refuses more than {Protocol.ProtocolLimits.MaxVideoFps} video or {Protocol.ProtocolLimits.MaxAudioFps} audio frames per second per sender.");
        }
    }

    internal static MediaLibrary CreateMedia(MediaProfile profile, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        var media = MediaLibrary.Create(profile.VideoFrameVariants, profile.VideoBytes, profile.AudioInterval);
        log(string.Create(CultureInfo.InvariantCulture,
            $"media: {media.VideoFrames.Count} JPEGs {MediaLibrary.VideoWidth}x{MediaLibrary.VideoHeight} of {string.Join("/", media.VideoFrames.Select(f => (f.Length / 1000.0).ToString("0.0", CultureInfo.InvariantCulture)))} KB (mean {media.MeanVideoBytes / 1000:0.0} KB) at {profile.VideoFps} fps; PCM16 {MediaLibrary.AudioSampleRate} Hz mono {media.AudioFrameBytes} B every {profile.AudioInterval.TotalMilliseconds} ms; made in {watch.ElapsedMilliseconds} ms"));
        return media;
    }

    /// <summary>Follows the load simulations (call count recomputed every 250 ms); returns the most calls asked for.</summary>
    internal static async Task<int> RunTimelineAsync(CallsEngine engine, IReadOnlyList<LoadSimulation> timeline, int startLevel, Action<string> status, CancellationToken cancellationToken)
    {
        var level = startLevel;
        var max = 0;
        foreach (var simulation in timeline)
        {
            var stepStart = Stopwatch.GetTimestamp();
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(stepStart);
                if (elapsed >= simulation.During)
                {
                    break;
                }

                var target = simulation.Kind == LoadSimulationKind.KeepConstant
                    ? simulation.Calls
                    : (int)Math.Round(level + ((simulation.Calls - level) * (elapsed / simulation.During)));
                max = Math.Max(max, target);
                engine.RequestCalls(target);
                status($"{simulation.Name} → {target} calls ({elapsed.TotalSeconds:0}/{simulation.During.TotalSeconds:0} s)");
                var remaining = simulation.During - elapsed;
                await Task.Delay(remaining < TimeSpan.FromMilliseconds(250) ? remaining : TimeSpan.FromMilliseconds(250), cancellationToken);
            }

            level = simulation.Calls;
            max = Math.Max(max, level);
        }

        return max;
    }

    /// <summary>
    /// After the senders stop: how long until the relays' slot lag is back under the threshold — every relay's slot,
    /// i.e. the largest lag (from Postgres when a connection string is known, else the relays' gauges) — and until the
    /// last frame of the window arrived.
    /// </summary>
    internal static async Task<DrainResult> MeasureDrainAsync(LoadTarget target, CallsEngine engine, MeasurementWindow window, CallsRunOptions options, CancellationToken cancellationToken)
    {
        var stop = Stopwatch.GetTimestamp();
        await using var probe = target.ConnectionString is { } cs ? new PostgresProbe(cs, target.SlotNames) : null;
        var scrapers = target.Relays.Select(r => new RelayMetricsScraper(r.Url)).ToList();
        try
        {
            // With known slots (the app model's relays), every one of them must exist and be under the threshold.
            var slots = target.SlotNames?.Count ?? 1;
            var source = probe is null
                ? $"relay /metrics (pgvideochat_replication_lag_bytes{(target.RelayCount > 1 ? $", largest of {target.RelayCount} relays" : string.Empty)})"
                : $"postgres (pg_current_wal_lsn() - confirmed_flush_lsn{(target.RelayCount > 1 ? $", largest of {target.RelayCount} slots" : string.Empty)})";
            long? lagAtStop = null, lastLag = null;
            double? drainedAt = null;
            while (true)
            {
                long? lag;
                var allSlots = true;
                if (probe is not null)
                {
                    var reading = await probe.ReadAsync(cancellationToken);
                    lag = reading?.SlotLagBytes;
                    allSlots = reading is { } r && r.Slots >= slots;
                }
                else
                {
                    var scrapes = await Task.WhenAll(scrapers.Select(s => s.ScrapeAsync(cancellationToken)));
                    allSlots = scrapes.All(s => s is not null);
                    lag = scrapes.Any(s => s is not null)
                        ? (long?)RelayMetricsScraper.Merge(scrapes.OfType<Dictionary<string, double>>()).GetValueOrDefault("pgvideochat_replication_lag_bytes")
                        : null;
                }

                lagAtStop ??= lag;
                lastLag = lag ?? lastLag;
                var elapsed = Stopwatch.GetElapsedTime(stop).TotalSeconds;
                if (drainedAt is null && allSlots && lag is { } l && l <= options.DrainThresholdBytes)
                {
                    drainedAt = elapsed;
                }

                var expected = window.Video.Expected + window.Audio.Expected;
                var delivered = window.Video.Delivered + window.Audio.Delivered;
                var quietMicros = Clock.NowMicros - engine.LastDeliveryMicros;
                var deliveriesDone = delivered >= expected || quietMicros > 3_000_000;
                if ((drainedAt is not null || lag is null) && deliveriesDone)
                {
                    break;
                }

                if (elapsed > options.DrainTimeout.TotalSeconds)
                {
                    break;
                }

                await Task.Delay(200, cancellationToken);
            }

            var lastDelivery = engine.LastDeliveryMicros;
            double? lastFrame = lastDelivery == 0 ? null : Math.Max(0, (lastDelivery - window.EndMicros) / 1e6);
            return new DrainResult(lagAtStop, lastLag, drainedAt, drainedAt is not null, lastFrame, source);
        }
        finally
        {
            foreach (var scraper in scrapers)
            {
                scraper.Dispose();
            }
        }
    }

    internal static CallsSummary BuildSummary(
        CallsRunOptions options,
        MeasurementWindow window,
        int maxCalls,
        IReadOnlyList<Sample> samples,
        DrainResult? drain,
        CallsEngine engine,
        IReadOnlyList<FlowTracker> flows,
        IReadOnlyDictionary<string, long> errors,
        IReadOnlyDictionary<string, int> disconnects,
        IReadOnlyDictionary<string, double> relayCounters,
        string loadPhase = "load")
    {
        var video = FrameCounts.From(window.Video);
        var audio = FrameCounts.From(window.Audio);
        var expected = video.ExpectedDeliveries + audio.ExpectedDeliveries;
        var load = samples.Where(s => s.Phase == loadPhase).ToList();
        var all = loadPhase == "load" ? samples : load;
        var lateness = engine.SendLateness;
        var relay = Process(load, s => s.RelayCpuPercent, s => s.RelayRssBytes, all);
        var relayCount = samples.Count > 0 ? samples[^1].RelayCount : 1;
        var relays = samples.SelectMany(s => s.Relays).Select(r => r.Name).Distinct(StringComparer.Ordinal).Select(name =>
        {
            RelaySample? Of(Sample s) => s.Relays.FirstOrDefault(r => r.Name == name);
            var figures = Process(load, s => Of(s)?.CpuPercent, s => Of(s)?.RssBytes, all);
            return new RelayInstanceFigures(
                name,
                figures.MeanCpuPercent,
                figures.PeakCpuPercent,
                figures.PeakRssBytes,
                Max(all.Select(s => Of(s)?.SlotLagBytes)),
                load.Select(s => Of(s)?.Clients).Where(c => c.HasValue).Select(c => (int?)(int)c!.Value).DefaultIfEmpty().Max(),
                load.Count(s => Of(s) is { MetricsScraped: false }));
        }).ToList();
        var frontDoor = samples.Any(s => s.FrontDoorCpuPercent.HasValue || s.FrontDoorRssBytes.HasValue)
            ? Process(load, s => s.FrontDoorCpuPercent, s => s.FrontDoorRssBytes, all)
            : null;
        var walsenderCpu = Process(load, s => s.WalsenderCpuPercent, _ => null, all);
        var walsenderCounts = load.Select(s => s.Walsenders).Where(c => c.HasValue).Select(c => c!.Value).ToList();
        var walsenders = samples.Any(s => s.Walsenders.HasValue)
            ? new WalsenderFigures(
                walsenderCpu.MeanCpuPercent,
                walsenderCpu.PeakCpuPercent,
                walsenderCounts.Count == 0 ? null : walsenderCounts.Min(),
                walsenderCounts.Count == 0 ? null : walsenderCounts.Max())
            : null;
        // Counters only, labelled series without the scope label, zero-valued label sets left out.
        var counters = relayCounters
            .Where(kv => kv.Key.Contains("_total", StringComparison.Ordinal) && (!kv.Key.Contains('{', StringComparison.Ordinal) || kv.Value != 0))
            .Select(kv => new KeyValuePair<string, double>(
                kv.Key.Replace("otel_scope_name=\"PgVideoChat.Relay\",", string.Empty, StringComparison.Ordinal)
                    .Replace("{otel_scope_name=\"PgVideoChat.Relay\"}", string.Empty, StringComparison.Ordinal), kv.Value))
            .GroupBy(kv => kv.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        return new CallsSummary
        {
            Calls = maxCalls,
            GroupSize = options.GroupSize,
            Participants = maxCalls * options.GroupSize,
            DurationSeconds = Math.Round(window.Duration.TotalSeconds, 3),
            WarmUpSeconds = options.WarmUp.TotalSeconds,
            LoadSimulations = [.. options.Timeline().Select(s => s.ToString())],
            MediaProfile = string.Create(CultureInfo.InvariantCulture,
                $"video {(options.Media.Video ? $"{MediaLibrary.VideoWidth}x{MediaLibrary.VideoHeight} JPEG ~{options.Media.VideoBytes / 1000} KB at {options.Media.VideoFps} fps" : "off")}, audio {(options.Media.Audio ? $"PCM16 {MediaLibrary.AudioSampleRate} Hz mono every {options.Media.AudioInterval.TotalMilliseconds} ms" : "off")}"),
            Frames = new Dictionary<string, FrameCounts> { ["video"] = video, ["audio"] = audio },
            DeliveryRatio = expected == 0 ? 0 : (double)(video.Delivered + audio.Delivered) / expected,
            LatencyMs = new Dictionary<string, LatencyPercentiles>
            {
                ["video"] = LatencyPercentiles.From(window.Video.Latency.Summary()),
                ["audio"] = LatencyPercentiles.From(window.Audio.Latency.Summary()),
            },
            Slot = new SlotFigures(
                Max(all.Select(s => s.SlotLagBytes ?? (long?)s.RelayLagBytes)),
                drain?.FinalLag ?? (all.Count > 0 ? all[^1].SlotLagBytes : null),
                all.Select(s => s.RelayLagSeconds).Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty().Max(),
                drain?.LagAtStop,
                drain?.DrainSeconds is { } d ? Math.Round(d, 3) : null,
                drain?.Drained ?? false,
                drain?.Source ?? "n/a",
                drain?.LastFrameSeconds is { } f ? Math.Round(f, 3) : null,
                Mean(load.Select(s => s.WalBytesPerSecond)),
                load.Select(s => s.WalBytesPerSecond).Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty().Max(),
                WalSyncMean(load),
                load.Max(s => s.WalSyncMeanMs) is { } worst ? Math.Round(worst, 3) : null),
            RelayCount = relayCount,
            Relay = relay,
            RelayPeakRssBytes = relay.PeakRssBytes,
            Relays = relays,
            FrontDoor = frontDoor,
            Postgres = Process(load, s => s.PostgresCpuPercent, s => s.PostgresRssBytes, all),
            Walsenders = walsenders,
            Runner = new RunnerFigures(
                Math.Round(Mean(load.Select(s => (double?)s.RunnerCpuPercent)) ?? 0, 1),
                Math.Round(load.Select(s => s.RunnerCpuPercent).DefaultIfEmpty().Max(), 1),
                Math.Round(lateness.P50Ms, 3), Math.Round(lateness.P99Ms, 3), Math.Round(lateness.MaxMs, 3),
                engine.SkippedFrames, engine.SendFailures, engine.UnexpectedFrames),
            MachineMeanCpuPercent = Mean(load.Select(s => s.MachineCpuPercent)) is { } m ? Math.Round(m, 1) : null,
            CallSetup = new SetupFigures(window.SetupOk, window.SetupFailed, LatencyPercentiles.From(window.Setup.Summary())),
            Errors = errors,
            Disconnects = disconnects,
            RelayCounters = counters,
            FlowsWithLoss = CountFlowsWithGaps(flows),
        };
    }

    /// <summary>Means of the relay's histograms between two scrapes of /metrics.</summary>
    internal static RelayInternals? Internals(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after, double seconds)
    {
        if (after.Count == 0)
        {
            return null;
        }

        double Delta(string name) => after.GetValueOrDefault(name) - before.GetValueOrDefault(name);
        double? Mean(string histogram, double scale) => RelayMetricsScraper.IntervalMean(before, after, histogram) is { } mean ? Math.Round(mean * scale, 3) : null;

        return new RelayInternals(
            Mean("pgvideochat_forward_latency_seconds", 1000),
            Mean("pgvideochat_ingest_insert_duration_seconds", 1000),
            Mean("pgvideochat_ingest_batch_size", 1),
            seconds > 0 ? Math.Round(Delta("pgvideochat_frames_ingested_total") / seconds, 1) : null,
            seconds > 0 ? Math.Round(Delta("pgvideochat_frames_forwarded_total") / seconds, 1) : null);
    }

    private static int CountFlowsWithGaps(IReadOnlyList<FlowTracker> flows) => flows.Count(f => f.Duplicates > 0 || f.OutOfOrder > 0 || f.Unexpected > 0);

    private static ProcessFigures Process(IReadOnlyList<Sample> load, Func<Sample, double?> cpu, Func<Sample, long?> rss, IReadOnlyList<Sample> all)
    {
        var cpus = load.Select(cpu).Where(v => v.HasValue).Select(v => v!.Value).ToList();
        var rssValues = all.Select(rss).Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return new ProcessFigures(
            cpus.Count == 0 ? null : Math.Round(cpus.Average(), 1),
            cpus.Count == 0 ? null : Math.Round(cpus.Max(), 1),
            rssValues.Count == 0 ? null : rssValues.Max(),
            rssValues.Count == 0 ? null : rssValues[^1]);
    }

    /// <summary>Mean WAL sync time over the load, weighted by each second's syncs (null when not timed).</summary>
    private static double? WalSyncMean(IReadOnlyList<Sample> load)
    {
        var timed = load.Where(s => s.WalSyncMeanMs.HasValue && s.WalSyncsPerSecond is > 0).ToList();
        var syncs = timed.Sum(s => s.WalSyncsPerSecond!.Value);
        return syncs > 0 ? Math.Round(timed.Sum(s => s.WalSyncMeanMs!.Value * s.WalSyncsPerSecond!.Value) / syncs, 3) : null;
    }

    private static double? Mean(IEnumerable<double?> values)
    {
        var list = values.Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return list.Count == 0 ? null : Math.Round(list.Average(), 1);
    }

    private static long? Max(IEnumerable<long?> values)
    {
        var list = values.Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return list.Count == 0 ? null : list.Max();
    }

    internal static ThresholdOutcome Evaluate(CallsSummary summary, Thresholds thresholds)
    {
        var failures = new List<string>();
        foreach (var (kind, frames) in summary.Frames)
        {
            if (frames.ExpectedDeliveries == 0)
            {
                continue;
            }

            var latency = summary.LatencyMs[kind];
            if (latency.P99 > thresholds.MaxP99Ms)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{kind} latency p99 {latency.P99:0.##} ms > {thresholds.MaxP99Ms} ms"));
            }

            if (frames.DeliveryRatio * 100 < thresholds.MinDeliveryPercent)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{kind} delivery {frames.DeliveryRatio * 100:0.###} % < {thresholds.MinDeliveryPercent} % ({frames.Lost} of {frames.ExpectedDeliveries} lost)"));
            }
        }

        if (summary.Frames.Values.Sum(f => f.Delivered) == 0)
        {
            failures.Add("no frame was delivered");
        }

        return new ThresholdOutcome(thresholds.MaxP99Ms, thresholds.MinDeliveryPercent, failures.Count == 0, failures);
    }

    internal static ScenarioReport Scenario(string name, MeasurementWindow window, IReadOnlyList<LoadSimulation> simulations)
    {
        var seconds = Math.Max(0.001, window.Duration.TotalSeconds);
        StepReport Media(string step, KindStats stats)
        {
            var delivered = stats.Delivered;
            var lost = Math.Max(0, stats.Expected - delivered);
            return new StepReport
            {
                Name = step,
                Ok = delivered,
                Failed = lost,
                OkRps = delivered / seconds,
                FailRps = lost / seconds,
                Latency = stats.Latency.Summary(),
                DataMinKb = stats.MinBytes / 1024.0,
                DataMeanKb = delivered == 0 ? 0 : stats.DeliveredBytes / 1024.0 / delivered,
                DataMaxKb = stats.MaxBytes / 1024.0,
                DataAllMb = stats.DeliveredBytes / 1024.0 / 1024.0,
                Note = string.Create(CultureInfo.InvariantCulture,
                    $"request = one frame to one recipient; sent {stats.Sent} frames, {stats.Expected} deliveries expected, ok = delivered, fail = lost; {stats.Duplicates} duplicates, {stats.OutOfOrder} out of order; latency = receive time - capture timestamp"),
            };
        }

        return new ScenarioReport
        {
            Name = name,
            Duration = window.Duration,
            Simulations = simulations,
            Steps =
            [
                Media("video", window.Video),
                Media("audio", window.Audio),
                new StepReport
                {
                    Name = "call_setup",
                    Ok = window.SetupOk,
                    Failed = window.SetupFailed,
                    OkRps = window.SetupOk / seconds,
                    FailRps = window.SetupFailed / seconds,
                    Latency = window.Setup.Summary(),
                    Note = "request = one call set up inside the window: sign-in of every participant, WebSocket + hello, call.invite, call.accept, until every participant sees the call active",
                },
            ],
        };
    }

    internal static List<ReportSection> Sections(CallsSummary s)
    {
        var rows = new List<KeyValuePair<string, string>>();
        void Add(string key, string value) => rows.Add(new(key, value));
        string B(double? bytes) => ProgressView.Bytes(bytes);
        foreach (var (kind, f) in s.Frames)
        {
            Add($"{kind} frames", string.Create(CultureInfo.InvariantCulture,
                $"sent {f.Sent}, deliveries expected {f.ExpectedDeliveries}, delivered {f.Delivered}, lost {f.Lost}, duplicates {f.Duplicates}, out of order {f.OutOfOrder}, delivery {f.DeliveryRatio * 100:0.###} %"));
        }

        Add("delivery ratio (both kinds)", string.Create(CultureInfo.InvariantCulture, $"{s.DeliveryRatio * 100:0.###} %"));
        var delivery = new ReportSection("delivery", [.. rows]);
        rows.Clear();
        if (s.Slot is { } slot)
        {
            Add(s.RelayCount == 1 ? "slot lag max" : string.Create(CultureInfo.InvariantCulture, $"slot lag max (largest of {s.RelayCount} slots)"), B(slot.MaxLagBytes));
            Add("slot lag max (relay, seconds)", string.Create(CultureInfo.InvariantCulture, $"{slot.MaxLagSeconds:0.###} s"));
            Add("slot lag at stop / final", $"{B(slot.LagBytesAtStop)} / {B(slot.FinalLagBytes)}");
            Add("drain time (lag back under threshold)", slot.DrainSeconds is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d:0.###} s") : "did not drain");
            Add("last frame after stop", slot.LastFrameAfterStopSeconds is { } lf ? string.Create(CultureInfo.InvariantCulture, $"{lf:0.###} s") : "n/a");
            Add("lag source", slot.Source);
            Add("WAL rate mean / peak", $"{B(slot.MeanWalBytesPerSecond)}/s / {B(slot.PeakWalBytesPerSecond)}/s");
            Add("WAL sync mean / worst second", slot.MeanWalSyncMs is { } sync
                ? string.Create(CultureInfo.InvariantCulture, $"{sync:0.##} ms / {slot.PeakWalSyncMs:0.##} ms")
                : "not timed (track_wal_io_timing off)");
        }

        var substrate = new ReportSection("replication slot", [.. rows]);
        rows.Clear();
        Add("relays", s.RelayCount == 1 ? "1 (clients connect to it directly)" : string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} behind the front door (figures below summed over them unless per relay)"));
        if (s.Relay is { } relay)
        {
            var sum = s.RelayCount == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", sum of {s.RelayCount} relays");
            Add("relay cpu mean / peak", $"{ProgressView.Pct(relay.MeanCpuPercent)} / {ProgressView.Pct(relay.PeakCpuPercent)} (100 % = one core{sum})");
            Add("relay rss peak / final", $"{B(relay.PeakRssBytes)} / {B(relay.FinalRssBytes)}{(sum.Length == 0 ? string.Empty : $" ({sum[2..]})")}");
        }

        if (s.RelayCount > 1)
        {
            foreach (var r in s.Relays)
            {
                Add($"{r.Name} cpu mean / peak, rss peak, slot lag max, clients", string.Create(CultureInfo.InvariantCulture,
                    $"{ProgressView.Pct(r.MeanCpuPercent)} / {ProgressView.Pct(r.PeakCpuPercent)}, {B(r.PeakRssBytes)}, {B(r.MaxSlotLagBytes)}, {(r.MaxClients is { } c ? c.ToString(CultureInfo.InvariantCulture) : "n/a")}{(r.MetricsMissedSeconds > 0 ? $"; /metrics missed {r.MetricsMissedSeconds} s" : string.Empty)}"));
            }
        }

        if (s.FrontDoor is { } frontDoor)
        {
            Add("front door cpu mean / peak, rss peak", $"{ProgressView.Pct(frontDoor.MeanCpuPercent)} / {ProgressView.Pct(frontDoor.PeakCpuPercent)}, {B(frontDoor.PeakRssBytes)} (not in the relay figures)");
        }

        if (s.RelayInternals is { } ri)
        {
            Add("relay: receive → recipient queue, mean (via Postgres)", ri.ForwardLatencyMeanMs is { } f ? string.Create(CultureInfo.InvariantCulture, $"{f:0.##} ms") : "n/a");
            Add("relay: INSERT round trip mean / frames per batch", string.Create(CultureInfo.InvariantCulture, $"{ri.InsertRoundTripMeanMs:0.##} ms / {ri.FramesPerInsertBatch:0.##}"));
            Add("relay: frames ingested / forwarded per second", string.Create(CultureInfo.InvariantCulture, $"{ri.IngestedFramesPerSecond:0.#} / {ri.ForwardedFramesPerSecond:0.#}"));
        }

        if (s.Postgres is { } pg)
        {
            Add("postgres cpu mean / peak", $"{ProgressView.Pct(pg.MeanCpuPercent)} / {ProgressView.Pct(pg.PeakCpuPercent)} (postmaster + backends + walsenders)");
            Add("postgres rss peak", B(pg.PeakRssBytes));
        }

        if (s.Walsenders is { } ws)
        {
            var count = ws.MinCount is not { } min || ws.MaxCount is not { } max ? "n/a"
                : min == max ? string.Create(CultureInfo.InvariantCulture, $"{max}")
                : string.Create(CultureInfo.InvariantCulture, $"{min}–{max}");
            Add("walsender cpu mean / peak", string.Create(CultureInfo.InvariantCulture,
                $"{ProgressView.Pct(ws.MeanCpuPercent)} / {ProgressView.Pct(ws.PeakCpuPercent)} ({count} walsenders, summed; part of postgres cpu)"));
        }

        if (s.Runner is { } runner)
        {
            Add("runner cpu mean / peak", string.Create(CultureInfo.InvariantCulture, $"{runner.MeanCpuPercent:0.#} % / {runner.PeakCpuPercent:0.#} %"));
            Add("runner send lateness p50 / p99 / max", string.Create(CultureInfo.InvariantCulture, $"{runner.SendLatenessP50Ms:0.###} / {runner.SendLatenessP99Ms:0.###} / {runner.SendLatenessMaxMs:0.###} ms"));
            Add("runner skipped / failed sends / unexpected frames", string.Create(CultureInfo.InvariantCulture, $"{runner.SkippedFrames} / {runner.SendFailures} / {runner.UnexpectedFrames}"));
        }

        Add("machine cpu mean", s.MachineMeanCpuPercent is { } m ? string.Create(CultureInfo.InvariantCulture, $"{m:0.#} % of all cores") : "n/a");
        if (s.CallSetup is { } setup)
        {
            Add("call set-up ok / failed", string.Create(CultureInfo.InvariantCulture, $"{setup.Ok} / {setup.Failed}, p50 {setup.LatencyMs.P50:0.#} ms, p99 {setup.LatencyMs.P99:0.#} ms"));
        }

        Add("errors from the relay", s.Errors.Count == 0 ? "none" : string.Join(", ", s.Errors.Select(e => $"{e.Key}: {e.Value}")));
        Add("unexpected disconnects", s.Disconnects.Count == 0 ? "none" : string.Join(", ", s.Disconnects.Select(e => $"{e.Key}: {e.Value}")));
        Add("flows with duplicates / reordering", s.FlowsWithLoss.ToString(CultureInfo.InvariantCulture));
        var processes = new ReportSection("processes", [.. rows]);
        rows.Clear();
        foreach (var (name, value) in s.RelayCounters)
        {
            Add(name, ReportWriter.F(value, 0));
        }

        var counters = new ReportSection(s.RelayCount == 1 ? "relay counters at the end (/metrics)" : string.Create(CultureInfo.InvariantCulture, $"relay counters at the end (/metrics of each relay, summed over {s.RelayCount})"), [.. rows]);
        List<ReportSection> sections = [delivery, substrate, processes, counters];
        if (s.Host is { } host)
        {
            sections.Add(host.Section());
        }

        return sections;
    }

    internal static List<Chart> Charts(IReadOnlyList<Sample> samples)
    {
        ChartSeries S(string name, string color, Func<Sample, double?> value) =>
            new(name, color, [.. samples.Where(s => value(s).HasValue).Select(s => (s.T, value(s)!.Value))]);
        var names = RelayNames(samples);
        var several = names.Count > 1;
        if (!several)
        {
            names = [];
        }

        var frontDoor = samples.Any(s => s.FrontDoorCpuPercent.HasValue);
        return
        [
            new Chart("latency (per second)", "ms",
            [
                S("video p50", "#1f77b4", s => s.VideoDelivered > 0 ? s.VideoP50Ms : null),
                S("video p99", "#0b3d91", s => s.VideoDelivered > 0 ? s.VideoP99Ms : null),
                S("audio p50", "#2ca02c", s => s.AudioDelivered > 0 ? s.AudioP50Ms : null),
                S("audio p99", "#145a14", s => s.AudioDelivered > 0 ? s.AudioP99Ms : null),
            ]),
            new Chart("slot lag", "bytes",
            [
                S("postgres: wal_lsn - confirmed_flush", "#d62728", s => s.SlotLagBytes),
                S("relay gauge", "#ff9896", s => s.RelayLagBytes),
            ]),
            new Chart("slot lag (relay, seconds)", "s", [S("pgvideochat_replication_lag_seconds", "#9467bd", s => s.RelayLagSeconds)]),
            new Chart("frames per second", "frames/s",
            [
                S("video sent", "#aec7e8", s => s.VideoSent),
                S("video delivered", "#1f77b4", s => s.VideoDelivered),
                S("audio sent", "#98df8a", s => s.AudioSent),
                S("audio delivered", "#2ca02c", s => s.AudioDelivered),
            ]),
            new Chart("cpu (100 % = one core)", "%",
            [
                S(several ? "relays (sum)" : "relay", "#ff7f0e", s => s.RelayCpuPercent),
                .. names.Select((name, i) => S(name, RelayColors[i % RelayColors.Length], s => s.Relays.FirstOrDefault(r => r.Name == name)?.CpuPercent)),
                .. frontDoor ? [S("front door", "#e377c2", s => s.FrontDoorCpuPercent)] : Array.Empty<ChartSeries>(),
                S("postgres", "#8c564b", s => s.PostgresCpuPercent),
                S("walsenders", "#c5b0d5", s => s.WalsenderCpuPercent),
                S("runner", "#7f7f7f", s => s.RunnerCpuPercent),
                S("machine (all cores)", "#bcbd22", s => s.MachineCpuPercent),
            ]),
            new Chart("memory and WAL", "bytes",
            [
                S(several ? "relays rss (sum)" : "relay rss", "#ff7f0e", s => s.RelayRssBytes),
                .. frontDoor ? [S("front door rss", "#e377c2", s => s.FrontDoorRssBytes)] : Array.Empty<ChartSeries>(),
                S("WAL bytes/s", "#17becf", s => s.WalBytesPerSecond),
            ]),
            new Chart("calls", "calls", [S("established calls", "#333333", s => s.Calls)]),
        ];
    }

    private static readonly string[] RelayColors = ["#ffbb78", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"];

    private static List<string> RelayNames(IReadOnlyList<Sample> samples) =>
        [.. samples.SelectMany(s => s.Relays).Select(r => r.Name).Distinct(StringComparer.Ordinal)];

    // relay_cpu_pct, relay_rss_bytes and the relay_* rates are sums over the relays; relay_lag_* the largest;
    // walsender_cpu_pct is the walsenders' part of postgres_cpu_pct. Per-relay and front-door columns follow the original ones.
    private static readonly string[] TimelineHeader =
    [
        "t_s", "phase", "calls", "participants", "video_sent", "video_delivered", "video_p50_ms", "video_p99_ms", "video_max_ms",
        "audio_sent", "audio_delivered", "audio_p50_ms", "audio_p99_ms", "audio_max_ms", "slot_lag_bytes", "relay_lag_bytes",
        "relay_lag_seconds", "wal_bytes_per_s", "relay_cpu_pct", "relay_rss_bytes", "postgres_cpu_pct",
        "walsender_cpu_pct", "postgres_rss_bytes", "runner_cpu_pct", "machine_cpu_pct", "send_lateness_p99_ms", "ingest_queue", "fanout_queue", "relay_ingested_per_s",
        "relay_forwarded_per_s", "relay_dropped_per_s", "relay_count", "frontdoor_cpu_pct", "frontdoor_rss_bytes", "utc",
        "relay_forward_mean_ms", "ingest_commit_mean_ms", "wal_syncs_per_s", "wal_sync_mean_ms", "wal_segments",
    ];

    internal static List<IReadOnlyList<string>> TimelineRows(IReadOnlyList<Sample> samples)
    {
        string N(double? v) => v is { } x ? ReportWriter.F(x, 3) : string.Empty;
        var names = RelayNames(samples);
        var header = TimelineHeader.Concat(names.SelectMany(n =>
        {
            var column = n.Replace('-', '_');
            return new[] { column + "_cpu_pct", column + "_rss_bytes", column + "_slot_lag_bytes" };
        })).ToList();
        var rows = new List<IReadOnlyList<string>> { header };
        rows.AddRange(samples.Select(s => (IReadOnlyList<string>)
        [
            N(s.T), s.Phase, N(s.Calls), N(s.Participants), N(s.VideoSent), N(s.VideoDelivered), N(s.VideoP50Ms), N(s.VideoP99Ms), N(s.VideoMaxMs),
            N(s.AudioSent), N(s.AudioDelivered), N(s.AudioP50Ms), N(s.AudioP99Ms), N(s.AudioMaxMs), N(s.SlotLagBytes), N(s.RelayLagBytes),
            N(s.RelayLagSeconds), N(s.WalBytesPerSecond), N(s.RelayCpuPercent), N(s.RelayRssBytes), N(s.PostgresCpuPercent),
            N(s.WalsenderCpuPercent), N(s.PostgresRssBytes), N(s.RunnerCpuPercent), N(s.MachineCpuPercent), N(s.SendLatenessP99Ms), N(s.IngestQueueDepth), N(s.FanOutQueueDepth), N(s.RelayIngestedPerSecond),
            N(s.RelayForwardedPerSecond), N(s.RelayDroppedPerSecond), N(s.RelayCount), N(s.FrontDoorCpuPercent), N(s.FrontDoorRssBytes),
            s.Utc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), N(s.RelayForwardMeanMs), N(s.IngestCommitMeanMs),
            N(s.WalSyncsPerSecond), N(s.WalSyncMeanMs), N(s.WalSegmentFiles),
            .. names.SelectMany(n => s.Relays.FirstOrDefault(r => r.Name == n) is { } r
                ? new[] { N(r.CpuPercent), N(r.RssBytes), N(r.SlotLagBytes) }
                : [string.Empty, string.Empty, string.Empty]),
        ]));
        return rows;
    }

    /// <summary>"relay cpu 36%", or with several relays "3 relays cpu 95% (31% + 33% + 31%)": the sum, then each.</summary>
    internal static string RelayCpuText(CallsSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.RelayCount == 1
            ? $"relay cpu {ProgressView.Pct(s.Relay?.MeanCpuPercent)}"
            : string.Create(CultureInfo.InvariantCulture, $"{s.RelayCount} relays cpu {ProgressView.Pct(s.Relay?.MeanCpuPercent)} ({string.Join(" + ", s.Relays.Select(r => ProgressView.Pct(r.MeanCpuPercent)))})");
    }

    /// <summary>"postgres cpu 40% (walsenders 25%)": Postgres in all, then the part its walsenders took.</summary>
    internal static string PostgresCpuText(CallsSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return $"postgres cpu {ProgressView.Pct(s.Postgres?.MeanCpuPercent)}{(s.Walsenders is { } ws ? $" (walsenders {ProgressView.Pct(ws.MeanCpuPercent)})" : string.Empty)}";
    }

    internal static void PrintSummary(ProgressView progress, CallsSummary s, string directory)
    {
        var v = s.Frames["video"];
        var a = s.Frames["audio"];
        var lv = s.LatencyMs["video"];
        var la = s.LatencyMs["audio"];
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calls {s.Calls} x {s.GroupSize}, {s.DurationSeconds:0.#} s measured: video {v.Delivered}/{v.ExpectedDeliveries} delivered ({v.DeliveryRatio * 100:0.###} %), p50 {lv.P50:0.#} ms, p99 {lv.P99:0.#} ms, max {lv.Max:0.#} ms; audio {a.Delivered}/{a.ExpectedDeliveries} ({a.DeliveryRatio * 100:0.###} %), p50 {la.P50:0.#} ms, p99 {la.P99:0.#} ms, max {la.Max:0.#} ms"));
        if (s.Slot is { } slot)
        {
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"slot lag max {ProgressView.Bytes(slot.MaxLagBytes)}, final {ProgressView.Bytes(slot.FinalLagBytes)}, drain {(slot.DrainSeconds is { } d ? d.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "not drained")}; WAL {ProgressView.Bytes(slot.MeanWalBytesPerSecond)}/s; {RelayCpuText(s)} (peak {ProgressView.Pct(s.Relay?.PeakCpuPercent)}), rss peak {ProgressView.Bytes(s.RelayPeakRssBytes)}{(s.FrontDoor is { } fd ? $"; front door cpu {ProgressView.Pct(fd.MeanCpuPercent)}" : string.Empty)}; {PostgresCpuText(s)}; runner cpu {ProgressView.Pct(s.Runner?.MeanCpuPercent)}"));
        }

        progress.WriteLine($"thresholds ({s.Thresholds?.MaxP99Ms} ms p99, {s.Thresholds?.MinDeliveryPercent} % delivery): {(s.Thresholds?.Passed == true ? "passed" : "FAILED: " + string.Join("; ", s.Thresholds?.Failures ?? []))}");
        progress.WriteLine($"reports: {directory}");
    }
}
