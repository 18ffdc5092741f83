using System.Buffers;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Transport;

/// <summary>
/// One media frame read from the slot, already laid out as the wire message (header + payload) in a pooled
/// buffer, shared by every recipient's queue: the payload is copied once, from the replication stream.
/// </summary>
internal sealed class OutboundFrame
{
    private readonly byte[] _buffer;
    private int _references = 1;

    public OutboundFrame(MediaKind kind, int length)
    {
        Kind = kind;
        Length = length;
        _buffer = ArrayPool<byte>.Shared.Rent(length);
    }

    public MediaKind Kind { get; }

    public int Length { get; }

    /// <summary>When the relay that ingested the frame received it (Unix µs), for the forward-latency metric.</summary>
    public long ReceivedMicros { get; set; }

    public Memory<byte> Memory => _buffer.AsMemory(0, Length);

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("An outbound frame was released more often than referenced.");
        }
    }
}
