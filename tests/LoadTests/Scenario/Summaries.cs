using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>Frames of one kind in the measured window (deliveries = frames × recipients).</summary>
public sealed record FrameCounts(
    long Sent,
    long ExpectedDeliveries,
    long Delivered,
    long Lost,
    long Duplicates,
    long OutOfOrder,
    double DeliveryRatio,
    double SentMb,
    double DeliveredMb)
{
    public static FrameCounts From(KindStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var expected = stats.Expected;
        var delivered = stats.Delivered;
        return new FrameCounts(
            stats.Sent,
            expected,
            delivered,
            Math.Max(0, expected - delivered),
            stats.Duplicates,
            stats.OutOfOrder,
            expected == 0 ? 0 : (double)delivered / expected,
            stats.SentBytes / 1e6,
            stats.DeliveredBytes / 1e6);
    }
}

public sealed record LatencyPercentiles(long Count, double Min, double Mean, double Max, double StdDev, double P50, double P75, double P95, double P99)
{
    public static LatencyPercentiles From(LatencySummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.Count, Math.Round(s.MinMs, 3), Math.Round(s.MeanMs, 3), Math.Round(s.MaxMs, 3), Math.Round(s.StdDevMs, 3),
            Math.Round(s.P50Ms, 3), Math.Round(s.P75Ms, 3), Math.Round(s.P95Ms, 3), Math.Round(s.P99Ms, 3));
    }
}

/// <summary>The replication slot during and after the load.</summary>
public sealed record SlotFigures(
    long? MaxLagBytes,
    long? FinalLagBytes,
    double? MaxLagSeconds,
    long? LagBytesAtStop,
    double? DrainSeconds,
    bool Drained,
    string Source,
    double? LastFrameAfterStopSeconds,
    double? MeanWalBytesPerSecond,
    double? PeakWalBytesPerSecond,
    double? MeanWalSyncMs = null,
    double? PeakWalSyncMs = null);

public sealed record ProcessFigures(double? MeanCpuPercent, double? PeakCpuPercent, long? PeakRssBytes, long? FinalRssBytes);

/// <summary>
/// Postgres's walsenders (one per relay's slot, each decoding all WAL for it; part of the postgres figures): their CPU
/// summed each second, then averaged / peaked over the load, and the fewest and most of them running at once.
/// </summary>
public sealed record WalsenderFigures(double? MeanCpuPercent, double? PeakCpuPercent, int? MinCount, int? MaxCount);

/// <summary>
/// One relay of several: its own CPU and RSS (the <c>relay</c> figures are their sums), the largest lag of its slot,
/// the most client WebSockets it held (where the front door placed them), and the seconds of the load in which its
/// /metrics did not answer (its previous scrape stood in for them in the sums).
/// </summary>
public sealed record RelayInstanceFigures(string Name, double? MeanCpuPercent, double? PeakCpuPercent, long? PeakRssBytes, long? MaxSlotLagBytes, int? MaxClients, int MetricsMissedSeconds);

public sealed record RunnerFigures(double MeanCpuPercent, double PeakCpuPercent, double SendLatenessP50Ms, double SendLatenessP99Ms, double SendLatenessMaxMs, long SkippedFrames, long SendFailures, long UnexpectedFrames);

/// <summary>Means of the relay's own histograms over the measured window (from /metrics _sum and _count deltas).</summary>
public sealed record RelayInternals(double? ForwardLatencyMeanMs, double? InsertRoundTripMeanMs, double? FramesPerInsertBatch, double? IngestedFramesPerSecond, double? ForwardedFramesPerSecond);

public sealed record ThresholdOutcome(double MaxP99Ms, double MinDeliveryPercent, bool Passed, IReadOnlyList<string> Failures);

public sealed record SetupFigures(long Ok, long Failed, LatencyPercentiles LatencyMs);

/// <summary>
/// What one call costs for each second it runs at this load (the window's means ÷ its calls): CPU milliseconds of the
/// relays, of Postgres (all its processes; the walsenders' share also apart) and of this runner, and bytes of WAL and
/// of writes to the machine's disks.
/// </summary>
public sealed record CallCost(int Calls, double? RelayCpuMs, double? PostgresCpuMs, double? WalsenderCpuMs, double RunnerCpuMs, double? WalBytes, double? DiskWriteBytes)
{
    /// <summary>From means in percent of one core (10 ms of CPU per second per percent) and in bytes per second.</summary>
    public static CallCost? From(int calls, double? relayCpuPercent, double? postgresCpuPercent, double? walsenderCpuPercent, double runnerCpuPercent, double? walBytesPerSecond, double? diskBytesPerSecond)
    {
        if (calls <= 0)
        {
            return null;
        }

        double? PerCall(double? value, double scale, int digits) => value is { } v ? Math.Round(v * scale / calls, digits) : null;
        return new CallCost(
            calls,
            PerCall(relayCpuPercent, 10, 2),
            PerCall(postgresCpuPercent, 10, 2),
            PerCall(walsenderCpuPercent, 10, 2),
            PerCall(runnerCpuPercent, 10, 2) ?? 0,
            PerCall(walBytesPerSecond, 1, 0),
            PerCall(diskBytesPerSecond, 1, 0));
    }
}

/// <summary>
/// What recording costs over a window (<c>--record</c>): the calls recorded, the recordings' partitions (size at the
/// window's end and growth per second over it, per recorded call-minute), and the relays' copy-out (milliseconds of
/// copying per second, per recorded call-second and per 1,000 frames; frames copied per second). The copy runs in
/// bursts at each partition rotation, 5–12.5 s behind the frames, so the growth over a short window is within one
/// partition width of the recorded rate; <see cref="RecordingTotals"/> at the end of the run is exact.
/// </summary>
public sealed record RecordingFigures(
    int RecordedCalls,
    long? PartitionBytesAtEnd,
    double? PartitionBytesPerSecond,
    double? BytesPerRecordedCallMinute,
    double? CopyMsPerSecond,
    double? CopyMsPerRecordedCallSecond,
    double? CopyMsPerThousandFrames,
    double? FramesCopiedPerSecond)
{
    internal static RecordingFigures From(int recordedCalls, IReadOnlyList<Sample> load)
    {
        var sized = load.Where(s => s.RecordedBytes.HasValue).ToList();
        double? growth = sized.Count >= 2 && sized[^1].T > sized[0].T
            ? Math.Round((sized[^1].RecordedBytes!.Value - sized[0].RecordedBytes!.Value) / (sized[^1].T - sized[0].T), 0)
            : null;
        double? Mean(Func<Sample, double?> value)
        {
            var values = load.Select(value).Where(v => v.HasValue).Select(v => v!.Value).ToList();
            return values.Count == 0 ? null : values.Average();
        }

        var copyMs = Mean(s => s.RecordingCopyMsPerSecond);
        var frames = Mean(s => s.RecordingFramesCopiedPerSecond);
        return new RecordingFigures(
            recordedCalls,
            sized.Count > 0 ? sized[^1].RecordedBytes : null,
            growth,
            growth is { } g && recordedCalls > 0 ? Math.Round(g * 60 / recordedCalls, 0) : null,
            copyMs is { } c ? Math.Round(c, 3) : null,
            copyMs is { } c2 && recordedCalls > 0 ? Math.Round(c2 / recordedCalls, 3) : null,
            copyMs is { } c3 && frames is > 0 ? Math.Round(c3 / frames.Value * 1000, 2) : null,
            frames is { } f ? Math.Round(f, 1) : null);
    }
}

/// <summary>What <c>summary.json</c> holds for a <c>run</c> (and for each capacity level).</summary>
public sealed record CallsSummary() : RunSummary("run")
{
    public string Scenario { get; init; } = "calls";

    /// <summary>The most calls running at once in the measured window.</summary>
    public int Calls { get; init; }

    public int GroupSize { get; init; }

    public int Participants { get; init; }

    public double DurationSeconds { get; init; }

    public double WarmUpSeconds { get; init; }

    public IReadOnlyList<string> LoadSimulations { get; init; } = [];

    public string MediaProfile { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, FrameCounts> Frames { get; init; } = new Dictionary<string, FrameCounts>();

    /// <summary>Delivered ÷ expected deliveries, both kinds.</summary>
    public double DeliveryRatio { get; init; }

    public IReadOnlyDictionary<string, LatencyPercentiles> LatencyMs { get; init; } = new Dictionary<string, LatencyPercentiles>();

    /// <summary>The relays' slots: with several relays, lag is the largest of their slots.</summary>
    public SlotFigures? Slot { get; init; }

    /// <summary>How many relays served the load (behind the front door when more than one).</summary>
    public int RelayCount { get; init; } = 1;

    /// <summary>Every relay process summed: CPU per sample summed then averaged / peaked, RSS per sample summed.</summary>
    public ProcessFigures? Relay { get; init; }

    /// <summary>The peak of the relays' summed RSS.</summary>
    public long? RelayPeakRssBytes { get; init; }

    /// <summary>Each relay on its own.</summary>
    public IReadOnlyList<RelayInstanceFigures> Relays { get; init; } = [];

    /// <summary>The front door's process (null with one relay, where clients reach the relay directly).</summary>
    public ProcessFigures? FrontDoor { get; init; }

    /// <summary>The postmaster and its children (backends, walsenders and the rest).</summary>
    public ProcessFigures? Postgres { get; init; }

    /// <summary>The walsenders alone (null without a Postgres pid).</summary>
    public WalsenderFigures? Walsenders { get; init; }

    /// <summary>The relays' view (their /metrics summed): receive → handed to a recipient's queue (through Postgres), INSERT round trip, batch size.</summary>
    public RelayInternals? RelayInternals { get; init; }

    public RunnerFigures? Runner { get; init; }

    /// <summary>The cost of one call per second it runs, at this run's load.</summary>
    public CallCost? CostPerCallSecond { get; init; }

    /// <summary>Bytes written to the machine's disks per second, mean over the window.</summary>
    public double? MeanDiskWriteBytesPerSecond { get; init; }

    public double? MachineMeanCpuPercent { get; init; }

    /// <summary>
    /// CPU the hypervisor took from this VM (steal), mean and peak second, in percent of all cores: a run with much
    /// of it measured a smaller machine, and its figures do not compare with a calm run's.
    /// </summary>
    public double? StealMeanPercent { get; init; }

    public double? StealPeakPercent { get; init; }

    public SetupFigures? CallSetup { get; init; }

    /// <summary>With <c>--record</c>: what the recorded calls cost over the window (null without it).</summary>
    public RecordingFigures? Recording { get; init; }

    /// <summary>With <c>--record</c>, for <c>run</c>: the recordings once complete after the hang-up.</summary>
    public RecordingTotals? RecordingTotals { get; init; }

    public IReadOnlyDictionary<string, long> Errors { get; init; } = new Dictionary<string, long>();

    public IReadOnlyDictionary<string, int> Disconnects { get; init; } = new Dictionary<string, int>();

    /// <summary>The relays' counters at the end, summed over the relays.</summary>
    public IReadOnlyDictionary<string, double> RelayCounters { get; init; } = new Dictionary<string, double>();

    public int FlowsWithLoss { get; init; }

    public ThresholdOutcome? Thresholds { get; init; }
}
