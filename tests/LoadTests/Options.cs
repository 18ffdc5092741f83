using System.Globalization;

namespace PgVideoChat.LoadTests;

/// <summary>Pass/fail limits of a run; they set the exit code.</summary>
public sealed record Thresholds(double MaxP99Ms = 150, double MinDeliveryPercent = 99.9)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"p99 <= {MaxP99Ms} ms, delivery >= {MinDeliveryPercent} %");
}

/// <summary>NBomber's load simulations for a "closed" model: how many calls run at once.</summary>
public enum LoadSimulationKind
{
    /// <summary>Moves the number of calls linearly from the previous level to <see cref="LoadSimulation.Calls"/> during the step.</summary>
    RampingConstant,

    /// <summary>Keeps <see cref="LoadSimulation.Calls"/> calls running during the step.</summary>
    KeepConstant,
}

/// <summary>One step of the load timeline (NBomber: <c>RampingConstant(copies, during)</c>, <c>KeepConstant(copies, during)</c>).</summary>
public sealed record LoadSimulation(LoadSimulationKind Kind, int Calls, TimeSpan During)
{
    public string Name => Kind == LoadSimulationKind.RampingConstant ? "ramping_constant" : "keep_constant";

    public override string ToString() => $"{Name}, copies: {Calls}, during: {Durations.Format(During)}";

    /// <summary>Parses <c>keep_constant:5:30s</c> or <c>ramping_constant:10:20s</c>.</summary>
    public static LoadSimulation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', 3);
        if (parts.Length != 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var calls) || calls < 0)
        {
            throw new FormatException($"'{text}' is not a load simulation; use keep_constant:CALLS:DURATION or ramping_constant:CALLS:DURATION (e.g. keep_constant:5:30s).");
        }

        var kind = parts[0].Replace("-", "_", StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "keep_constant" or "keep" => LoadSimulationKind.KeepConstant,
            "ramping_constant" or "ramp" or "ramping" => LoadSimulationKind.RampingConstant,
            _ => throw new FormatException($"Unknown load simulation '{parts[0]}': use keep_constant or ramping_constant."),
        };
        return new LoadSimulation(kind, calls, Durations.Parse(parts[2]));
    }
}

/// <summary>What to load: the app model started here (default) or a relay that already runs.</summary>
public sealed record TargetOptions
{
    /// <summary>A running relay; when null the app model is started through the AppHost's test entry point.</summary>
    public Uri? RelayUrl { get; init; }

    /// <summary>The relay's database, for slot lag, WAL rate and the substrate experiments; optional with <see cref="RelayUrl"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The relay's process id for CPU and RSS; optional with <see cref="RelayUrl"/>.</summary>
    public int? RelayPid { get; init; }

    /// <summary>The postmaster's process id (its backends are summed); optional with <see cref="RelayUrl"/>.</summary>
    public int? PostgresPid { get; init; }

    /// <summary>Extra AppHost arguments, e.g. <c>--Relay:FrameRetention=00:01:00</c>.</summary>
    public IReadOnlyList<string> AppHostArgs { get; init; } = [];
}

/// <summary>Where reports go and how progress is shown.</summary>
public sealed record OutputOptions
{
    /// <summary>The folder that gets <c>&lt;session&gt;/</c>; default <c>reports/</c> at the repository root.</summary>
    public string? ReportsDirectory { get; init; }

    /// <summary>Session id (folder name); default <c>yyyy-MM-dd_HH.mm.ss_session_xxxxxxxx</c> like NBomber.</summary>
    public string? SessionId { get; init; }

    /// <summary>Plain progress lines instead of the live table (also chosen when output is redirected).</summary>
    public bool Plain { get; init; }

    /// <summary>Where progress goes; default the console.</summary>
    public TextWriter? Writer { get; init; }

    public string TestSuite { get; init; } = "pgvideochat";
}

/// <summary>The media each participant sends (the standard profile by default).</summary>
public sealed record MediaProfile
{
    public bool Video { get; init; } = true;

    public bool Audio { get; init; } = true;

    public double VideoFps { get; init; } = 15;

    public TimeSpan AudioInterval { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Target size of the generated JPEGs (they spread ±15 % around it).</summary>
    public int VideoBytes { get; init; } = 25_000;

    public int VideoFrameVariants { get; init; } = 8;
}

/// <summary>The <c>calls</c> scenario.</summary>
public sealed record CallsRunOptions
{
    /// <summary>Calls kept during <see cref="Duration"/> when <see cref="Simulations"/> is empty.</summary>
    public int Calls { get; init; } = 5;

    /// <summary>Participants per call (2 = direct calls).</summary>
    public int GroupSize { get; init; } = 2;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A ramp from the warm-up level to <see cref="Calls"/> before <see cref="Duration"/>; zero for none.</summary>
    public TimeSpan Ramp { get; init; } = TimeSpan.Zero;

    /// <summary>Media flows but is not counted; NBomber's warm-up.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Explicit load simulations; when set they replace <see cref="Calls"/>, <see cref="Ramp"/> and <see cref="Duration"/>.</summary>
    public IReadOnlyList<LoadSimulation> Simulations { get; init; } = [];

    public MediaProfile Media { get; init; } = new();

    public Thresholds Thresholds { get; init; } = new();

    public TargetOptions Target { get; init; } = new();

    public OutputOptions Output { get; init; } = new();

    /// <summary>Calls set up at the same time (sign-in, connect, invite, accept).</summary>
    public int SetupConcurrency { get; init; } = 4;

    /// <summary>
    /// The first this many calls of the run are recorded (<c>call.record.start</c> by their caller once the call is
    /// active, <c>call.record.stop</c> before the hang-up); 0 none, <see cref="int.MaxValue"/> every call (<c>--record all</c>).
    /// </summary>
    public int RecordCalls { get; init; }

    /// <summary>The slot counts as drained when its lag is at most this many bytes.</summary>
    public long DrainThresholdBytes { get; init; } = 64 * 1024;

    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The effective timeline: explicit simulations, or [ramping_constant(ramp)], keep_constant(duration).</summary>
    public IReadOnlyList<LoadSimulation> Timeline()
    {
        if (Simulations.Count > 0)
        {
            return Simulations;
        }

        var steps = new List<LoadSimulation>();
        if (Ramp > TimeSpan.Zero)
        {
            steps.Add(new LoadSimulation(LoadSimulationKind.RampingConstant, Calls, Ramp));
        }

        steps.Add(new LoadSimulation(LoadSimulationKind.KeepConstant, Calls, Duration));
        return steps;
    }
}

/// <summary>The <c>capacity</c> search: more calls step by step while the thresholds hold.</summary>
public sealed record CapacityOptions
{
    public int Start { get; init; } = 5;

    public int Step { get; init; } = 5;

    public int Max { get; init; } = 100;

    /// <summary>How long each level must hold the thresholds.</summary>
    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Settling time after the calls of a new level are up, not counted.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After the last level, the substrate baseline on the same Postgres for this long (zero: none), so the capacity
    /// is stated as a ratio of what Postgres sustains in the same run.
    /// </summary>
    public TimeSpan Baseline { get; init; }

    /// <summary>How many searches from <see cref="Start"/> up; the median counts.</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>
    /// Exactly these levels, in order, each measured even after one broke (the cost of a call at 1, 10, 30 and 50
    /// calls, say); empty: <see cref="Start"/> to <see cref="Max"/> by <see cref="Step"/> until one breaks.
    /// </summary>
    public IReadOnlyList<int> Levels { get; init; } = [];

    public CallsRunOptions Calls { get; init; } = new();

    /// <summary>The calls of each level, in order.</summary>
    public IEnumerable<int> LevelCalls()
    {
        if (Levels.Count > 0)
        {
            return Levels;
        }

        return Step > 0 && Max >= Start ? Enumerable.Range(0, ((Max - Start) / Step) + 1).Select(i => Start + (i * Step)) : [Start];
    }

    public int FirstLevel => Levels.Count > 0 ? Levels[0] : Start;
}

/// <summary>The <c>baseline</c> measurement: the substrate without the relay.</summary>
public sealed record BaselineOptions
{
    /// <summary>Total time; split between the single-row, the batched and the COPY phase.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public int BatchSize { get; init; } = 64;

    public int Writers { get; init; } = 1;

    /// <summary>Stop the relay of a started app model during the measurement so its walsender does not decode the same WAL.</summary>
    public bool StopRelay { get; init; } = true;

    public int PgOutputProtocolVersion { get; init; } = 2;

    public MediaProfile Media { get; init; } = new();

    public TargetOptions Target { get; init; } = new();

    public OutputOptions Output { get; init; } = new();
}

/// <summary>The <c>retention</c> experiment: DELETE every 2 s against dropping time partitions.</summary>
public sealed record RetentionOptions
{
    /// <summary>Per variant.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Frames inserted per second (150 ≈ the video of 5 two-party calls).</summary>
    public int RowsPerSecond { get; init; } = 150;

    public TimeSpan Keep { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan DeleteEvery { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan PartitionWidth { get; init; } = TimeSpan.FromSeconds(10);

    public MediaProfile Media { get; init; } = new();

    public TargetOptions Target { get; init; } = new();

    public OutputOptions Output { get; init; } = new();
}

/// <summary>Durations as people type them: <c>30s</c>, <c>2m</c>, <c>500ms</c>, <c>1h</c>, <c>00:00:30</c>, or plain seconds.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && !(suffix == "s" && value.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                return TimeSpan.FromSeconds(number * seconds);
            }
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain))
        {
            return TimeSpan.FromSeconds(plain);
        }

        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        throw new FormatException($"'{text}' is not a duration; use e.g. 30s, 2m, 500ms or 00:00:30.");
    }

    /// <summary>NBomber's <c>hh:mm:ss</c>.</summary>
    public static string Format(TimeSpan span) => TimeSpan.FromSeconds(Math.Round(span.TotalSeconds)).ToString(span.TotalHours >= 24 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture);
}
