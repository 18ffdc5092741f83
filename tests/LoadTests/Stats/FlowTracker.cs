namespace PgVideoChat.LoadTests.Stats;

/// <summary>What a received frame was, judged by its sequence number.</summary>
public enum FrameVerdict
{
    New,
    NewOutOfOrder,
    Duplicate,
    Unexpected,
}

/// <summary>
/// What one receiver got of one sender's frames of one kind, by sequence number: unique, duplicated, out of order.
/// Used only from the receiver's receive loop; read after the run.
/// </summary>
public sealed class FlowTracker(long senderId, long receiverId, uint firstSequence, SentLog? sent = null)
{
    private const int MaxTrackedFrames = 1 << 24;
    private ulong[] _seen = new ulong[64];
    private long _highest = -1;

    public long SenderId { get; } = senderId;

    public long ReceiverId { get; } = receiverId;

    public uint FirstSequence { get; } = firstSequence;

    /// <summary>The sender's record of which window each of its frames belongs to.</summary>
    public SentLog Sent { get; } = sent ?? new SentLog();

    /// <summary>The measurement window the sender put this frame in (0 = none).</summary>
    public byte WindowOf(uint sequence) => Sent.Get(unchecked(sequence - FirstSequence));

    public long Unique { get; private set; }

    public long Duplicates { get; private set; }

    public long OutOfOrder { get; private set; }

    /// <summary>Frames whose sequence was outside what this sender can have sent.</summary>
    public long Unexpected { get; private set; }

    /// <summary>Records a frame and judges it.</summary>
    public FrameVerdict Record(uint sequence)
    {
        var offset = unchecked(sequence - FirstSequence);
        if (offset >= MaxTrackedFrames)
        {
            Unexpected++;
            return FrameVerdict.Unexpected;
        }

        var word = (int)(offset >> 6);
        if (word >= _seen.Length)
        {
            Array.Resize(ref _seen, Math.Max(word + 1, _seen.Length * 2));
        }

        var mask = 1UL << (int)(offset & 63);
        if ((_seen[word] & mask) != 0)
        {
            Duplicates++;
            return FrameVerdict.Duplicate;
        }

        _seen[word] |= mask;
        Unique++;
        var late = offset < _highest;
        if (late)
        {
            OutOfOrder++;
        }
        else
        {
            _highest = offset;
        }

        return late ? FrameVerdict.NewOutOfOrder : FrameVerdict.New;
    }
}
