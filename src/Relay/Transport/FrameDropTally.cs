using System.Collections.Concurrent;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Transport;

/// <summary>
/// The frames of each (call, sender) this relay dropped since the last look: from a slow receiver's full queue, or as
/// stale behind the slot. It is the pressure the quality advisor steps senders down for. The call and sender come
/// from the dropped frame's own header bytes, read only when a frame is dropped.
/// </summary>
internal sealed class FrameDropTally
{
    private readonly ConcurrentDictionary<(long CallId, long SenderId), int> _drops = new();

    /// <summary>Counts <paramref name="frame"/>; call it before the frame is released (its buffer goes back to the pool).</summary>
    public void Dropped(OutboundFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (MediaFrameHeader.TryRead(frame.Memory.Span, out var header, out _, out _))
        {
            Dropped(header.CallId, header.SenderId);
        }
    }

    public void Dropped(long callId, long senderId) => _drops.AddOrUpdate((callId, senderId), 1, static (_, count) => count + 1);

    /// <summary>The counts since the last call, each taken out.</summary>
    public Dictionary<(long CallId, long SenderId), int> TakeAll()
    {
        var taken = new Dictionary<(long CallId, long SenderId), int>();
        foreach (var key in _drops.Keys)
        {
            if (_drops.TryRemove(key, out var count))
            {
                taken[key] = count;
            }
        }

        return taken;
    }
}
