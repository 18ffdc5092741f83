using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Limits;

/// <summary>The verdict on one frame against the per-sender rate.</summary>
internal enum RateVerdict
{
    Allowed,
    Dropped,

    /// <summary>Far beyond the limit: the client floods and is disconnected (4429).</summary>
    Flooding,
}

/// <summary>
/// Per connection: a token bucket per kind (video 30/s, audio 60/s) holding up to 1.5 s of frames, so that frames a
/// network hiccup bunched together are not punished while the long-run rate stays bounded; more than twice the
/// limit refused within one second is flooding. At most one <c>error</c> per second per code is sent back.
/// Used only from the connection's receive loop, so it needs no locking.
/// </summary>
internal sealed class MediaRateLimiter(TimeProvider time)
{
    private const double BurstSeconds = 1.5;
    private const int FloodFactor = 2;
    private readonly Bucket _video = new(ProtocolLimits.MaxVideoFps, time.GetTimestamp());
    private readonly Bucket _audio = new(ProtocolLimits.MaxAudioFps, time.GetTimestamp());
    private readonly Dictionary<string, long> _lastErrorTicks = new(StringComparer.Ordinal);

    public RateVerdict Check(MediaKind kind)
    {
        var bucket = kind == MediaKind.Video ? _video : _audio;
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(bucket.LastRefill, now).TotalSeconds;
        bucket.LastRefill = now;
        bucket.Tokens = Math.Min(bucket.Rate * BurstSeconds, bucket.Tokens + elapsed * bucket.Rate);
        if (time.GetElapsedTime(bucket.RefusedSince, now) >= TimeSpan.FromSeconds(1))
        {
            bucket.RefusedSince = now;
            bucket.Refused = 0;
        }

        if (bucket.Tokens >= 1)
        {
            bucket.Tokens -= 1;
            return RateVerdict.Allowed;
        }

        return ++bucket.Refused > bucket.Rate * FloodFactor ? RateVerdict.Flooding : RateVerdict.Dropped;
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

    private sealed class Bucket(int rate, long now)
    {
        public int Rate { get; } = rate;

        public double Tokens { get; set; } = rate * BurstSeconds;

        public long LastRefill { get; set; } = now;

        public long RefusedSince { get; set; } = now;

        public int Refused { get; set; }
    }
}
