using System.Diagnostics;

namespace PgVideoChat.LoadTests.Stats;

/// <summary>
/// Wall-clock microseconds since the Unix epoch, read from a monotonic clock anchored once: senders stamp frames with
/// it and receivers (in the same process) subtract it, so latency is free of wall-clock steps and cheap to read.
/// </summary>
public static class Clock
{
    private static readonly long AnchorMicros = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    private static readonly long AnchorTimestamp = Stopwatch.GetTimestamp();

    // GetElapsedTime scales in floating point: ticks × 1e6 in long arithmetic would overflow after ~2.5 h at 1 GHz.
    public static long NowMicros => AnchorMicros + (Stopwatch.GetElapsedTime(AnchorTimestamp).Ticks / 10);

    public static DateTimeOffset ToDateTime(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
}
