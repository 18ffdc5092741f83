using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.LoadTests.Substrate;
using PgVideoChat.LoadTests.Target;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>One level of a capacity search (<paramref name="Repetition"/> counts from 1).</summary>
public sealed record CapacityLevel(int Calls, bool Passed, IReadOnlyList<string> Failures, CallsSummary Summary, int Repetition = 1);

/// <summary>One search from <c>--start</c> up, of the <c>--repeat</c> searches of a capacity run.</summary>
public sealed record CapacityRepetition(int Repetition, int Capacity, string StoppedBecause, double? RatioToBaseline, SlotFigures FinalDrain);

/// <summary>What <c>summary.json</c> holds for <c>capacity</c>.</summary>
public sealed record CapacitySummary() : RunSummary("capacity")
{
    /// <summary>
    /// The largest number of calls that held the thresholds for the hold time (0 if none did); with <c>--repeat</c>,
    /// the median of the searches (the lower one of the middle two for an even count).
    /// </summary>
    public int Capacity { get; init; }

    /// <summary>Each search's capacity, in order (one entry without <c>--repeat</c>).</summary>
    public IReadOnlyList<CapacityRepetition> Repetitions { get; init; } = [];

    /// <summary>How many relays served the load (behind the front door when more than one).</summary>
    public int RelayCount { get; init; } = 1;

    public int GroupSize { get; init; }

    public double HoldSeconds { get; init; }

    public double MaxP99Ms { get; init; }

    public double MinDeliveryPercent { get; init; }

    public string StoppedBecause { get; init; } = string.Empty;

    public IReadOnlyList<CapacityLevel> Levels { get; init; } = [];

    /// <summary>The cost of one call per second it runs, level by level (what <c>--levels 1,10,30,50</c> is for).</summary>
    public IReadOnlyList<CallCost> Costs { get; init; } = [];

    /// <summary>With <c>--record</c>: the recordings once complete after the last search hung up.</summary>
    public RecordingTotals? RecordingTotals { get; init; }

    /// <summary>With <c>--baseline</c>: the session of the substrate baseline measured after the last search.</summary>
    public string? BaselineSessionId { get; init; }

    /// <summary>With <c>--baseline</c>: the fastest baseline phase (the substrate's limit).</summary>
    public string? BaselinePhase { get; init; }

    /// <summary>With <c>--baseline</c>: that phase's rows per second (min of written and decoded) in 1:1 calls of the profile.</summary>
    public double? BaselineCalls { get; init; }

    /// <summary>With <c>--baseline</c>: the rows per second of <see cref="Capacity"/> ÷ those of <see cref="BaselineCalls"/> (for 1:1 calls, calls ÷ calls).</summary>
    public double? RatioToBaseline { get; init; }

    /// <summary>The drain after the last level; with <c>--repeat</c>, the slowest of the searches' drains.</summary>
    public SlotFigures? FinalDrain { get; init; }

}

/// <summary>
/// <c>capacity</c>: keeps the calls of the previous level running and adds <c>step</c> more per level; each level is
/// measured for the hold time after a settling time; the search stops at the first level that breaks a threshold.
/// With <c>--repeat</c> the search runs again from the start level (all calls hung up in between) and the median
/// counts: on a shared machine one noisy second decides a single level.
/// </summary>
internal static class CapacityRunner
{
    public static async Task<RunResult<CapacitySummary>> RunAsync(CapacityOptions options, CancellationToken cancellationToken)
    {
        var scenario = options.Calls;
        if (options.Start < 1 || options.Step < 1 || options.Max < options.Start || options.Repeat < 1)
        {
            throw new ArgumentException("capacity needs --start >= 1, --step >= 1, --max >= --start and --repeat >= 1.");
        }

        if (options.Levels.Any(l => l <= 0) || options.Levels.Zip(options.Levels.Skip(1)).Any(p => p.Second <= p.First))
        {
            throw new ArgumentException($"--levels must be rising numbers of calls, each above 0: {string.Join(",", options.Levels)}");
        }

        CallsRunner.Validate(scenario, [new LoadSimulation(LoadSimulationKind.KeepConstant, options.FirstLevel, options.Hold)]);
        await using var session = RunSession.Begin("capacity", scenario.Output);
        var progress = session.Progress;
        var sessionId = session.Id;
        var plan = options.Levels.Count > 0 ? $"every level of {string.Join(", ", options.Levels)} calls" : $"capacity from {options.Start} calls, +{options.Step} per level up to {options.Max}";
        progress.Log($"session {sessionId}: {plan}, hold {Durations.Format(options.Hold)}, thresholds {scenario.Thresholds}{(options.Repeat > 1 ? $", {options.Repeat} searches" : string.Empty)}");
        var media = session.CreateMedia(scenario.Media);
        var target = await session.OpenTargetAsync(scenario.Target, cancellationToken);
        progress.Start($"PgVideoChat load: capacity ({sessionId})");

        var origin = Stopwatch.GetTimestamp();
        var searches = new List<Search>();
        for (var repetition = 1; repetition <= options.Repeat; repetition++)
        {
            var offset = Stopwatch.GetElapsedTime(origin).TotalSeconds;
            var search = await SearchAsync(options, media, target, progress, repetition, cancellationToken);
            searches.Add(search with { Samples = [.. search.Samples.Select(s => s with { T = Math.Round(s.T + offset, 3) })] });
            progress.Log(options.Repeat > 1 ? $"search {repetition} of {options.Repeat}: {search.Capacity} calls held; stopped: {search.StoppedBecause}" : $"stopped: {search.StoppedBecause}");
        }

        var recordings = await CallsRunner.RecordingTotalsAsync(scenario, target, progress, cancellationToken);
        await progress.StopAsync();
        BaselineSummary? baseline = null;
        if (options.Baseline > TimeSpan.Zero)
        {
            // Same Postgres, same settings, same machine state, minutes after the last level.
            var baselineOptions = new BaselineOptions { Duration = options.Baseline, Media = scenario.Media, Output = scenario.Output with { SessionId = sessionId + "-baseline" } };
            await using var baselineSession = RunSession.Within("baseline", baselineOptions.Output, progress, target);
            baseline = (await BaselineRunner.RunAsync(baselineOptions, baselineSession, cancellationToken)).Summary;
        }

        // "As fast as possible": the fastest way of writing the same rows is the substrate's limit, not the relay's way.
        var fastest = baseline?.Phases.MaxBy(p => p.EquivalentCalls);

        // In rows per second: the baseline counts 1:1 calls; a call of g participants writes g/2 times their rows.
        double? Ratio(int calls) => fastest is { EquivalentCalls: > 0 } f ? Math.Round(calls * scenario.GroupSize / (2.0 * f.EquivalentCalls), 3) : null;
        var repetitions = searches.Select(s => new CapacityRepetition(s.Repetition, s.Capacity, s.StoppedBecause, Ratio(s.Capacity), s.Drain)).ToList();
        var capacity = LowerMedian(searches.Select(s => s.Capacity));
        var levels = searches.SelectMany(s => s.Levels).ToList();
        var windows = searches.SelectMany(s => s.Windows).ToList();
        var samples = searches.SelectMany(s => s.Samples).ToList();
        var stoppedBecause = options.Repeat == 1
            ? searches[0].StoppedBecause
            : string.Join("; ", searches.Select(s => $"search {s.Repetition}: {s.StoppedBecause}"));
        var slowestDrain = searches.Select(s => s.Drain).MaxBy(d => d.Drained ? d.DrainSeconds ?? 0 : double.MaxValue)!;
        var result = session.Stamp(new CapacitySummary
        {
            Capacity = capacity,
            Repetitions = repetitions,
            RelayCount = target.RelayCount,
            GroupSize = scenario.GroupSize,
            HoldSeconds = options.Hold.TotalSeconds,
            MaxP99Ms = scenario.Thresholds.MaxP99Ms,
            MinDeliveryPercent = scenario.Thresholds.MinDeliveryPercent,
            StoppedBecause = stoppedBecause,
            Levels = levels,
            Costs = [.. levels.Select(l => l.Summary.CostPerCallSecond).OfType<CallCost>()],
            RecordingTotals = recordings,
            BaselineSessionId = baseline?.SessionId,
            BaselinePhase = fastest?.Name,
            BaselineCalls = fastest?.EquivalentCalls,
            RatioToBaseline = Ratio(capacity),
            FinalDrain = slowestDrain,
            ExitCode = capacity > 0 ? CallsRunner.ExitPassed : CallsRunner.ExitThresholdsFailed,
        });

        var rows = levels.Select(l => new KeyValuePair<string, string>(
            (options.Repeat > 1 ? $"search {l.Repetition}, " : string.Empty) + l.Calls.ToString(CultureInfo.InvariantCulture) + " calls",
            string.Create(CultureInfo.InvariantCulture,
                $"{(l.Passed ? "held" : "broke")}: video p99 {l.Summary.LatencyMs["video"].P99:0.#} ms, audio p99 {l.Summary.LatencyMs["audio"].P99:0.#} ms, delivery {l.Summary.DeliveryRatio * 100:0.###} %, slot lag max {ProgressView.Bytes(l.Summary.Slot?.MaxLagBytes)}, WAL {ProgressView.Bytes(l.Summary.Slot?.MeanWalBytesPerSecond)}/s{(l.Summary.Slot?.MeanWalSyncMs is { } sync ? $" (sync {sync:0.#} ms)" : string.Empty)}, {CallsReport.RelayCpuText(l.Summary)}{(l.Summary.FrontDoor is { } fd ? $", front door cpu {ProgressView.Pct(fd.MeanCpuPercent)}" : string.Empty)}, {CallsReport.PostgresCpuText(l.Summary)}, runner cpu {ProgressView.Pct(l.Summary.Runner?.MeanCpuPercent)}, steal {ProgressView.Pct(l.Summary.StealMeanPercent)}, relay rss {ProgressView.Bytes(l.Summary.RelayPeakRssBytes)}{(l.Summary.RelayCount > 1 ? " (sum)" : string.Empty)}{(l.Passed ? string.Empty : " — " + string.Join("; ", l.Failures))}"))).ToList();
        var searchesText = options.Repeat == 1
            ? string.Empty
            : $", the median of {options.Repeat} searches ({string.Join(", ", searches.Select(s => s.Capacity))})";
        rows.Insert(0, new("capacity", string.Create(CultureInfo.InvariantCulture, $"{capacity} calls of {scenario.GroupSize} ({capacity * scenario.GroupSize} participants) held {scenario.Thresholds} for {Durations.Format(options.Hold)} with {(target.RelayCount == 1 ? "1 relay" : $"{target.RelayCount} relays behind the front door")}{searchesText}; stopped: {stoppedBecause}")));
        if (fastest is not null)
        {
            rows.Insert(1, new("ratio to the substrate baseline", string.Create(CultureInfo.InvariantCulture,
                $"{result.RatioToBaseline * 100:0.#} % of the rows per second: {capacity} calls of {scenario.GroupSize} against {fastest.EquivalentCalls:0.#} 1:1 calls' worth, the fastest baseline phase ({fastest.Name}: {fastest.Writer}, {fastest.RowsWrittenPerSecond:0} rows/s written, {fastest.RowsDecodedPerSecond:0} decoded) on the same Postgres right after the levels (reports/{baseline!.SessionId}){(options.Repeat > 1 ? $"; by search: {string.Join(", ", repetitions.Select(r => $"{r.RatioToBaseline * 100:0.#} %"))}" : string.Empty)}")));
        }

        rows.AddRange(searches.Select(s => new KeyValuePair<string, string>(
            options.Repeat > 1 ? $"drain after search {s.Repetition}" : "drain after the last level",
            s.Drain.Drained ? string.Create(CultureInfo.InvariantCulture, $"{s.Drain.DrainSeconds:0.###} s from {ProgressView.Bytes(s.Drain.LagBytesAtStop)}") : "did not drain")));
        var costs = new ReportSection("cost of one call per second, by level", [.. levels.Where(l => l.Summary.CostPerCallSecond is not null).Select(l =>
            new KeyValuePair<string, string>((options.Repeat > 1 ? $"search {l.Repetition}, " : string.Empty) + l.Calls.ToString(CultureInfo.InvariantCulture) + " calls", CallsReport.CostText(l.Summary.CostPerCallSecond!)))]);
        List<ReportSection> sections = [new ReportSection("capacity", rows), costs];
        if (scenario.RecordCalls > 0)
        {
            List<KeyValuePair<string, string>> recordingRows = [.. levels.Where(l => l.Summary.Recording is not null).Select(l =>
                new KeyValuePair<string, string>((options.Repeat > 1 ? $"search {l.Repetition}, " : string.Empty) + l.Calls.ToString(CultureInfo.InvariantCulture) + " calls", CallsReport.RecordingText(l.Summary.Recording!)))];
            if (recordings is not null)
            {
                recordingRows.Add(new("at the end", CallsReport.RecordingTotalsText(recordings)));
            }

            sections.Add(new ReportSection("recording (--record), by level", recordingRows));
        }

        sections.Add(session.Host!.Section());
        var model = session.Report("capacity", result) with
        {
            Scenarios = [.. windows.Select(w => CallsReport.Scenario(w.Window.Name, w.Window, [new LoadSimulation(LoadSimulationKind.KeepConstant, w.Calls, options.Hold)]))],
            Sections = sections,
            Charts = [.. CallsReport.CostCharts(result.Costs), .. CallsReport.Charts(samples)],
            Thresholds = scenario.Thresholds,
            Passed = capacity > 0,
            Failures = capacity > 0 ? [] : ["no level held the thresholds"],
            Timeline = CallsReport.TimelineRows(samples),
        };
        progress.WriteLine(rows[0].Value);
        return session.Finish(model, result, result.ExitCode);
    }

    /// <summary>The lower of the middle two for an even count, so an even number of searches never rounds up.</summary>
    internal static int LowerMedian(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[(sorted.Length - 1) / 2];
    }

    /// <summary>One search from the start level: its own calls and sampler, all hung up at the end.</summary>
    private static async Task<Search> SearchAsync(CapacityOptions options, MediaLibrary media, LoadTarget target, ProgressView progress, int repetition, CancellationToken cancellationToken)
    {
        var scenario = options.Calls;
        var prefix = options.Repeat > 1 ? $"r{repetition} " : string.Empty;
        await using var engine = new CallsEngine(target.RelayUri, media, scenario, progress.Log);
        var status = string.Empty;
        await using var sampler = new Sampler(
            target, engine.TakeInterval, () => (engine.EstablishedCalls, engine.Participants), s => progress.Update(s, status));
        sampler.Start();

        var levels = new List<CapacityLevel>();
        var windows = new List<(int Calls, MeasurementWindow Window)>();
        var stoppedBecause = options.Levels.Count > 0 ? "measured every level of --levels" : $"reached --max {options.Max}";
        if (repetition == 1 && scenario.WarmUp > TimeSpan.Zero)
        {
            // A fresh app model's first seconds of load (new WAL segments, the first partitions, caches) are not its
            // steady state: the first search starts after --warm-up at its first level, not counted.
            sampler.Phase = "warm-up";
            status = $"warming up with {options.FirstLevel} calls";
            await engine.EnsureCallsAsync(options.FirstLevel, cancellationToken);
            progress.Log($"warm-up: {engine.EstablishedCalls} calls up; media flows for {Durations.Format(scenario.WarmUp)} before the first level (not counted)");
            await Task.Delay(scenario.WarmUp, cancellationToken);
        }

        foreach (var calls in options.LevelCalls())
        {
            sampler.Phase = $"{prefix}settle {calls}";
            status = $"{prefix}setting up {calls} calls";
            await engine.EnsureCallsAsync(calls, cancellationToken);
            if (engine.EstablishedCalls < calls)
            {
                progress.Log($"only {engine.EstablishedCalls} of {calls} calls came up");
            }

            await Task.Delay(options.Settle, cancellationToken);
            var phase = $"{prefix}hold {calls}";
            sampler.Phase = phase;
            status = $"{prefix}holding {calls} calls for {Durations.Format(options.Hold)}";
            var window = engine.OpenWindow(options.Repeat > 1 ? $"r{repetition}_calls_{calls}" : $"calls_{calls}");
            await Task.Delay(options.Hold, cancellationToken);
            CallsEngine.CloseWindow(window);

            // Late frames of the window still count; the next level's settling starts meanwhile.
            sampler.Phase = $"{prefix}grace";
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            engine.FreezeWindow(window);
            windows.Add((calls, window));

            var summary = CallsRunner.BuildSummary(scenario, window, calls, sampler.Samples, null, engine, [], engine.Errors, engine.Disconnects(), sampler.LastMetrics, phase);
            var outcome = CallsRunner.Evaluate(summary, scenario.Thresholds);
            if (engine.EstablishedCalls < calls)
            {
                outcome = outcome with { Passed = false, Failures = [.. outcome.Failures, $"only {engine.EstablishedCalls} of {calls} calls were up"] };
            }

            summary = summary with { Thresholds = outcome, Command = "capacity", Scenario = window.Name };
            levels.Add(new CapacityLevel(calls, outcome.Passed, outcome.Failures, summary, repetition));
            progress.Log(string.Create(CultureInfo.InvariantCulture,
                $"{prefix}level {calls} calls: {(outcome.Passed ? "held" : "broke")} — video p99 {summary.LatencyMs["video"].P99:0.#} ms, audio p99 {summary.LatencyMs["audio"].P99:0.#} ms, delivery {summary.DeliveryRatio * 100:0.###} %, slot lag max {ProgressView.Bytes(summary.Slot?.MaxLagBytes)}, {CallsReport.RelayCpuText(summary)}{(summary.FrontDoor is { } fd ? $", front door cpu {ProgressView.Pct(fd.MeanCpuPercent)}" : string.Empty)}, steal {ProgressView.Pct(summary.StealMeanPercent)}{(outcome.Passed ? string.Empty : ": " + string.Join("; ", outcome.Failures))}"));
            if (!outcome.Passed && options.Levels.Count == 0)
            {
                stoppedBecause = $"{calls} calls broke the thresholds";
                break;
            }
        }

        await engine.StopSendingAsync();
        sampler.Phase = $"{prefix}drain";
        status = $"{prefix}drain";
        var drain = await CallsRunner.MeasureDrainAsync(target, engine, windows[^1].Window, scenario, cancellationToken);
        var samples = sampler.Samples;
        await sampler.DisposeAsync();
        await engine.TeardownAsync();
        var capacity = levels.Where(l => l.Passed).Select(l => l.Calls).DefaultIfEmpty(0).Max();
        return new Search(
            repetition,
            capacity,
            stoppedBecause,
            levels,
            windows,
            samples,
            new SlotFigures(null, drain.FinalLag, null, drain.LagAtStop, drain.DrainSeconds, drain.Drained, drain.Source, drain.LastFrameSeconds, null, null));
    }

    private sealed record Search(
        int Repetition,
        int Capacity,
        string StoppedBecause,
        IReadOnlyList<CapacityLevel> Levels,
        IReadOnlyList<(int Calls, MeasurementWindow Window)> Windows,
        IReadOnlyList<Sample> Samples,
        SlotFigures Drain);
}
