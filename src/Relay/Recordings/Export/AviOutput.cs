using System.Buffers;
using System.Buffers.Binary;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// The export's bytes on their way to the response: headers, chunk headers, PCM and small JPEGs are gathered in one
/// pooled buffer (a response body is slow with many small writes); a JPEG larger than the room left goes straight to
/// the stream after what is gathered. Counts what it has written, for the check against the plan's length.
/// </summary>
internal sealed class AviOutput(Stream stream, int bufferSize) : IDisposable
{
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    private int _filled;

    /// <summary>Bytes handed to the stream or gathered for it.</summary>
    public long Written { get; private set; }

    /// <summary>Room for <paramref name="count"/> bytes at the end of the buffer; <see cref="Advance"/> keeps them.</summary>
    public async ValueTask<Memory<byte>> ReserveAsync(int count, CancellationToken cancellationToken)
    {
        if (count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"more than the output buffer's {_buffer.Length} bytes");
        }

        if (_buffer.Length - _filled < count)
        {
            await FlushAsync(cancellationToken);
        }

        return _buffer.AsMemory(_filled, count);
    }

    /// <summary>The header into the buffer's start (it is empty then); returns what it wrote.</summary>
    public int WriteHeader(AviExportPlan plan)
    {
        if (_filled != 0 || Written != 0)
        {
            throw new InvalidOperationException("The header goes first.");
        }

        var length = AviHeader.Write(_buffer, plan);
        Advance(length);
        return length;
    }

    public void Advance(int count)
    {
        _filled += count;
        Written += count;
    }

    /// <summary>Two little-endian 32-bit words: a chunk's id and size, or half an index entry.</summary>
    public async ValueTask WritePairAsync(uint first, uint second, CancellationToken cancellationToken)
    {
        var room = await ReserveAsync(8, cancellationToken);
        BinaryPrimitives.WriteUInt32LittleEndian(room.Span, first);
        BinaryPrimitives.WriteUInt32LittleEndian(room.Span[4..], second);
        Advance(8);
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length <= _buffer.Length - _filled)
        {
            payload.CopyTo(_buffer.AsMemory(_filled));
            Advance(payload.Length);
            return;
        }

        await FlushAsync(cancellationToken);
        await stream.WriteAsync(payload, cancellationToken);
        Written += payload.Length;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0)
        {
            await stream.WriteAsync(_buffer.AsMemory(0, _filled), cancellationToken);
            _filled = 0;
        }
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}
