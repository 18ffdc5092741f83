using System.Buffers.Binary;

namespace PgVideoChat.Protocol;

/// <summary>
/// The fixed 40-byte big-endian header in front of every media frame (docs/protocol.md, section 4).
/// </summary>
public readonly record struct MediaFrameHeader(
    MediaKind Kind,
    uint Sequence,
    long CallId,
    long CaptureTimeMicros,
    ushort A,
    ushort B,
    uint C,
    long SenderId)
{
    public const int Size = 40;
    public const byte CurrentVersion = 1;

    /// <summary>Video: width in pixels.</summary>
    public ushort Width => A;

    /// <summary>Video: height in pixels.</summary>
    public ushort Height => B;

    /// <summary>Audio: channels.</summary>
    public ushort Channels => A;

    /// <summary>Audio: sample rate in Hz.</summary>
    public uint SampleRate => C;

    public static MediaFrameHeader Video(uint sequence, long callId, long captureTimeMicros, ushort width, ushort height, long senderId = 0)
        => new(MediaKind.Video, sequence, callId, captureTimeMicros, width, height, 0, senderId);

    public static MediaFrameHeader Audio(uint sequence, long callId, long captureTimeMicros, ushort channels, uint sampleRate, long senderId = 0)
        => new(MediaKind.Audio, sequence, callId, captureTimeMicros, channels, 0, sampleRate, senderId);

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination must hold at least {Size} bytes.", nameof(destination));
        }

        destination[0] = CurrentVersion;
        destination[1] = (byte)Kind;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Size);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Sequence);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], CallId);
        BinaryPrimitives.WriteInt64BigEndian(destination[16..], CaptureTimeMicros);
        BinaryPrimitives.WriteUInt16BigEndian(destination[24..], A);
        BinaryPrimitives.WriteUInt16BigEndian(destination[26..], B);
        BinaryPrimitives.WriteUInt32BigEndian(destination[28..], C);
        BinaryPrimitives.WriteInt64BigEndian(destination[32..], SenderId);
    }

    /// <summary>
    /// Reads a header. Returns <see langword="false"/> with a reason when the bytes are not a version-1 header;
    /// <paramref name="headerLength"/> is where the payload starts (a longer header from a newer client is skipped).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out MediaFrameHeader header, out int headerLength, out string? error)
    {
        header = default;
        headerLength = 0;
        if (source.Length < Size)
        {
            error = $"a media frame needs a {Size}-byte header, got {source.Length} bytes";
            return false;
        }

        if (source[0] != CurrentVersion)
        {
            error = $"unsupported media header version {source[0]}";
            return false;
        }

        var kind = (MediaKind)source[1];
        if (kind is not (MediaKind.Video or MediaKind.Audio))
        {
            error = $"unknown media kind {source[1]}";
            return false;
        }

        headerLength = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if (headerLength < Size || headerLength > source.Length)
        {
            error = $"header length {headerLength} is outside {Size}..{source.Length}";
            return false;
        }

        header = new MediaFrameHeader(
            kind,
            BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
            BinaryPrimitives.ReadInt64BigEndian(source[8..]),
            BinaryPrimitives.ReadInt64BigEndian(source[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[24..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[26..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[28..]),
            BinaryPrimitives.ReadInt64BigEndian(source[32..]));
        error = null;
        return true;
    }
}
