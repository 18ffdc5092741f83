using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Ingest;

/// <summary>The verdict on one frame against the per-sender rate.</summary>
internal enum RateVerdict
{
    Allowed,
    Dropped,

    /// <summary>Far beyond the limit: the client floods and is disconnected (4429).</summary>
    Flooding,
}

/// <summary>
/// Per connection: frames per kind over a one-second window (video ≤ 30, audio ≤ 60), and at most one
/// <c>error</c> per second per code so that a misbehaving client is told without being flooded back.
/// Used only from the connection's receive loop, so it needs no locking.
/// </summary>
internal sealed class MediaRateLimiter(TimeProvider time)
{
    private const int FloodFactor = 3;
    private readonly Window _video = new();
    private readonly Window _audio = new();
    private readonly Dictionary<string, long> _lastErrorTicks = new(StringComparer.Ordinal);

    public RateVerdict Check(MediaKind kind)
    {
        var (window, limit) = kind == MediaKind.Video ? (_video, ProtocolLimits.MaxVideoFps) : (_audio, ProtocolLimits.MaxAudioFps);
        var now = time.GetTimestamp();
        if (time.GetElapsedTime(window.StartedAt, now) >= TimeSpan.FromSeconds(1))
        {
            window.StartedAt = now;
            window.Count = 0;
        }

        window.Count++;
        return window.Count <= limit ? RateVerdict.Allowed
            : window.Count > limit * FloodFactor ? RateVerdict.Flooding
            : RateVerdict.Dropped;
    }

    /// <summary>Whether an error with this code may be sent now.</summary>
    public bool ShouldReport(string code)
    {
        var now = time.GetTimestamp();
        if (_lastErrorTicks.TryGetValue(code, out var last) && time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        _lastErrorTicks[code] = now;
        return true;
    }

    private sealed class Window
    {
        public long StartedAt { get; set; }

        public int Count { get; set; }
    }
}
