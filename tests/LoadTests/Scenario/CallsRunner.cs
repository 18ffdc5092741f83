using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Runs;
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
        var timeline = options.Timeline();
        Validate(options, timeline);
        await using var session = RunSession.Begin("run", options.Output);
        var progress = session.Progress;
        progress.Log($"session {session.Id}: scenario calls, {string.Join("; ", timeline)}, group size {options.GroupSize}, warm-up {Durations.Format(options.WarmUp)}");
        var media = session.CreateMedia(options.Media);
        var target = await session.OpenTargetAsync(options.Target, cancellationToken);
        await using var engine = new CallsEngine(target.RelayUri, media, options, progress.Log);
        var status = string.Empty;
        await using var sampler = new Sampler(
            target, engine.TakeInterval, () => (engine.EstablishedCalls, engine.Participants), s => progress.Update(s, status));
        progress.Start($"PgVideoChat load: calls ({session.Id})");
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
        var recordedCalls = engine.RecordedCalls;
        status = "teardown";
        await engine.TeardownAsync();
        var recordings = await RecordingTotalsAsync(options, target, progress, cancellationToken);

        var summary = session.Stamp(BuildSummary(options, window, maxCalls, samples, drain, engine, flows, errors, disconnects, relayCounters, recordedCalls: recordedCalls) with
        {
            RelayInternals = Internals(metricsAtOpen, relayCounters, window.Duration.TotalSeconds),
            RecordingTotals = recordings,
        });

        var outcome = Evaluate(summary, options.Thresholds);
        summary = summary with { Thresholds = outcome, ExitCode = outcome.Passed ? ExitPassed : ExitThresholdsFailed };

        var model = session.Report("calls", summary) with
        {
            Scenarios = [CallsReport.Scenario("calls", window, timeline)],
            Sections = CallsReport.Sections(summary),
            Charts = CallsReport.Charts(samples),
            Thresholds = options.Thresholds,
            Passed = outcome.Passed,
            Failures = outcome.Failures,
            Timeline = CallsReport.TimelineRows(samples),
        };
        CallsReport.PrintSummary(progress, summary);
        return session.Finish(model, summary, summary.ExitCode);
    }

    /// <summary>With <c>--record</c> and a database: the recordings once the rotation has copied them to their stop.</summary>
    internal static async Task<RecordingTotals?> RecordingTotalsAsync(CallsRunOptions options, LoadTarget target, ProgressView progress, CancellationToken cancellationToken)
    {
        if (options.RecordCalls <= 0 || target.ConnectionString is not { } connectionString)
        {
            return null;
        }

        progress.Log("recordings: waiting for the rotation to copy them up to their stop");
        var totals = await RecordingProbe.TotalsAsync(connectionString, TimeSpan.FromSeconds(40), cancellationToken);
        if (totals is not null)
        {
            progress.Log(CallsReport.RecordingTotalsText(totals));
        }

        return totals;
    }

    internal static void Validate(CallsRunOptions options, IReadOnlyList<LoadSimulation> timeline)
    {
        if (options.RecordCalls < 0)
        {
            throw new ArgumentException("--record must be 0 or more calls, or all.");
        }

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
        string loadPhase = "load",
        int? recordedCalls = null)
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
            MeanDiskWriteBytesPerSecond = Mean(load.Select(s => s.DiskWriteBytesPerSecond)) is { } disk ? Math.Round(disk, 0) : null,
            CostPerCallSecond = CallCost.From(
                maxCalls,
                relay.MeanCpuPercent,
                Mean(load.Select(s => s.PostgresCpuPercent)),
                Mean(load.Select(s => s.WalsenderCpuPercent)),
                Mean(load.Select(s => (double?)s.RunnerCpuPercent)) ?? 0,
                Mean(load.Select(s => s.WalBytesPerSecond)),
                Mean(load.Select(s => s.DiskWriteBytesPerSecond))),
            MachineMeanCpuPercent = Mean(load.Select(s => s.MachineCpuPercent)) is { } m ? Math.Round(m, 1) : null,
            StealMeanPercent = Mean(load.Select(s => s.StealPercent)) is { } st ? Math.Round(st, 1) : null,
            StealPeakPercent = load.Select(s => s.StealPercent).Max() is { } sp ? Math.Round(sp, 1) : null,
            CallSetup = new SetupFigures(window.SetupOk, window.SetupFailed, LatencyPercentiles.From(window.Setup.Summary())),
            Recording = options.RecordCalls > 0 ? RecordingFigures.From(recordedCalls ?? engine.RecordedCalls, load) : null,
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
}
