namespace PgVideoChat.LoadTests.Stats;

/// <summary>
/// One media kind within one measurement window. A "request" in NBomber's sense is one delivery of one frame to one
/// recipient: <see cref="Expected"/> = frames sent × recipients, ok = delivered, failed = lost.
/// </summary>
public sealed class KindStats
{
    private long _sent;
    private long _sentBytes;
    private long _expected;
    private long _delivered;
    private long _deliveredBytes;
    private long _duplicates;
    private long _outOfOrder;
    private long _minBytes = long.MaxValue;
    private long _maxBytes;

    public LatencyStats Latency { get; } = new();

    public long Sent => Interlocked.Read(ref _sent);

    public long SentBytes => Interlocked.Read(ref _sentBytes);

    public long Expected => Interlocked.Read(ref _expected);

    public long Delivered => Interlocked.Read(ref _delivered);

    public long DeliveredBytes => Interlocked.Read(ref _deliveredBytes);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    public long MinBytes => Interlocked.Read(ref _minBytes) == long.MaxValue ? 0 : Interlocked.Read(ref _minBytes);

    public long MaxBytes => Interlocked.Read(ref _maxBytes);

    public void OnSent(int payloadBytes, int recipients)
    {
        Interlocked.Increment(ref _sent);
        Interlocked.Add(ref _sentBytes, payloadBytes);
        Interlocked.Add(ref _expected, recipients);
    }

    /// <summary>Takes back <see cref="OnSent"/> for a frame whose send was cancelled (it never left whole).</summary>
    public void OnSendCancelled(int payloadBytes, int recipients)
    {
        Interlocked.Decrement(ref _sent);
        Interlocked.Add(ref _sentBytes, -payloadBytes);
        Interlocked.Add(ref _expected, -recipients);
    }

    public void OnDelivered(long latencyMicros, int payloadBytes, bool outOfOrder)
    {
        Interlocked.Increment(ref _delivered);
        Interlocked.Add(ref _deliveredBytes, payloadBytes);
        if (outOfOrder)
        {
            Interlocked.Increment(ref _outOfOrder);
        }

        Latency.Record(latencyMicros);
        UpdateMin(ref _minBytes, payloadBytes);
        UpdateMax(ref _maxBytes, payloadBytes);
    }

    public void OnDuplicate() => Interlocked.Increment(ref _duplicates);

    private static void UpdateMin(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static void UpdateMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
