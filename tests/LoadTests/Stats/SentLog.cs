namespace PgVideoChat.LoadTests.Stats;

/// <summary>
/// Which measurement window each frame of one sender and kind belongs to, by sequence offset, decided once by the
/// sender before the frame leaves: receivers read the sender's decision, so a frame counts in the same window on
/// both sides whatever the threads' timing. One writer (the send loop), any number of readers.
/// </summary>
public sealed class SentLog
{
    public const int MaxFrames = 1 << 22;
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;
    private readonly byte[]?[] _chunks = new byte[MaxFrames >> ChunkBits][];

    /// <summary>Records the window id (0 = none) of the frame at <paramref name="offset"/> from the first sequence.</summary>
    public void Set(uint offset, byte windowId)
    {
        if (offset >= MaxFrames)
        {
            return;
        }

        var index = (int)(offset >> ChunkBits);
        var chunk = Volatile.Read(ref _chunks[index]);
        if (chunk is null)
        {
            chunk = new byte[1 << ChunkBits];
            Volatile.Write(ref _chunks[index], chunk);
        }

        Volatile.Write(ref chunk[offset & ChunkMask], windowId);
    }

    public byte Get(uint offset)
    {
        if (offset >= MaxFrames)
        {
            return 0;
        }

        var chunk = Volatile.Read(ref _chunks[(int)(offset >> ChunkBits)]);
        return chunk is null ? (byte)0 : Volatile.Read(ref chunk[offset & ChunkMask]);
    }
}
