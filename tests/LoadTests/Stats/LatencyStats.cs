using HdrHistogram;

namespace PgVideoChat.LoadTests.Stats;

/// <summary>Latency (recorded in microseconds) summarised in milliseconds, NBomber's set of figures.</summary>
public sealed record LatencySummary(long Count, double MinMs, double MeanMs, double MaxMs, double StdDevMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0);

    public static LatencySummary From(HistogramBase histogram, long minMicros, long maxMicros)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return Empty;
        }

        return new LatencySummary(
            histogram.TotalCount,
            minMicros / 1000.0,
            histogram.GetMean() / 1000.0,
            maxMicros / 1000.0,
            histogram.GetStdDeviation() / 1000.0,
            histogram.GetValueAtPercentile(50) / 1000.0,
            histogram.GetValueAtPercentile(75) / 1000.0,
            histogram.GetValueAtPercentile(95) / 1000.0,
            histogram.GetValueAtPercentile(99) / 1000.0);
    }
}

/// <summary>An HdrHistogram of microseconds (1 µs .. 10 min, 3 significant digits) with exact min and max, safe across threads.</summary>
public sealed class LatencyStats
{
    public const long HighestTrackableMicros = 600_000_000;

    private readonly LongHistogram _histogram = new(1, HighestTrackableMicros, 3);
    private readonly Lock _gate = new();
    private long _min = long.MaxValue;
    private long _max;

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _histogram.TotalCount;
            }
        }
    }

    public void Record(long micros)
    {
        var value = Math.Clamp(micros, 1, HighestTrackableMicros);
        lock (_gate)
        {
            _histogram.RecordValue(value);
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
        }
    }

    public LatencySummary Summary()
    {
        lock (_gate)
        {
            return LatencySummary.From(_histogram, _min == long.MaxValue ? 0 : _min, _max);
        }
    }

    /// <summary>The summary so far, then starts over (per-second figures).</summary>
    public LatencySummary SummaryAndReset()
    {
        lock (_gate)
        {
            var summary = LatencySummary.From(_histogram, _min == long.MaxValue ? 0 : _min, _max);
            _histogram.Reset();
            _min = long.MaxValue;
            _max = 0;
            return summary;
        }
    }
}
