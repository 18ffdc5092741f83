namespace PgVideoChat.Relay.Limits;

/// <summary>
/// Per connection: counts requests refused by a limit within the current second. A client that keeps sending after
/// being told <c>rate_limited</c> is flooding and is closed (4429), so a refused request costs the relay a parse and a
/// reply at most <see cref="RequestLimitOptions.FloodRefusals"/> times a second per connection. Used only from the
/// connection's receive loop, so it needs no locking.
/// </summary>
internal sealed class ControlFloodGuard(TimeProvider time, int floodRefusals)
{
    private long _windowStart = time.GetTimestamp();
    private int _refused;

    /// <summary>Refusals counted in the current second.</summary>
    public int RefusedInWindow => _refused;

    /// <summary>Records a refusal; true when the connection is flooding.</summary>
    public bool Refused()
    {
        var now = time.GetTimestamp();
        if (time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _refused = 0;
        }

        return ++_refused > floodRefusals;
    }
}
