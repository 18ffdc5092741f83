using System.Buffers.Binary;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// The bytes of an export before its first chunk: <c>RIFF 'AVI '</c>, the <c>hdrl</c> list (<c>avih</c>, then one
/// <c>strl</c> per stream: <c>strh</c> and <c>strf</c>, a BITMAPINFOHEADER for video and a WAVEFORMATEX for audio) and
/// the start of the <c>movi</c> list; and the ids and flags of the chunks and the index.
/// </summary>
internal static class AviHeader
{
    /// <summary>AVIIF_KEYFRAME: every JPEG and every PCM chunk can be decoded on its own (an empty one has nothing to decode).</summary>
    public const uint KeyFrame = 0x10;

    /// <summary>The index chunk's id, <c>idx1</c>.</summary>
    public const uint IndexId = 'i' | ('d' << 8) | ('x' << 16) | ('1' << 24);

    private const int MainHeaderSize = 56;
    private const int StreamHeaderSize = 56;
    private const int BitmapInfoSize = 40;
    private const int WaveFormatSize = 18;
    private const int VideoListSize = 4 + 8 + StreamHeaderSize + 8 + BitmapInfoSize;
    private const int AudioListSize = 4 + 8 + StreamHeaderSize + 8 + WaveFormatSize;

    // AVIF_HASINDEX | AVIF_ISINTERLEAVED
    private const uint MainFlags = 0x10 | 0x100;

    /// <summary>Bytes from the file's start through the <c>movi</c> fourcc.</summary>
    public static int Length(int videoStreams) => 12 + HeaderListSize(videoStreams) + 8 + 12;

    /// <summary>The chunk id of <paramref name="stream"/>: <c>NNdc</c> (compressed video) or <c>NNwb</c> (audio).</summary>
    public static uint ChunkId(int stream, bool video)
        => (uint)('0' + (stream / 10)) | ((uint)('0' + (stream % 10)) << 8) | (video ? ((uint)'d' << 16) | ((uint)'c' << 24) : ((uint)'w' << 16) | ((uint)'b' << 24));

    /// <summary>Writes the header into <paramref name="destination"/> (at least <see cref="Length"/> bytes); returns its length.</summary>
    public static int Write(byte[] destination, AviExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(plan);
        var w = new Cursor(destination);
        var first = plan.VideoStreams.Count > 0 ? plan.VideoStreams[0] : null;
        w.Id("RIFF"u8).U32((uint)(plan.FileLength - 8)).Id("AVI "u8);
        w.Id("LIST"u8).U32((uint)HeaderListSize(plan.VideoStreams.Count)).Id("hdrl"u8);
        w.Id("avih"u8).U32(MainHeaderSize)
            .U32((uint)Math.Round(1e6 / AviExportPlan.FramesPerSecond)).U32((uint)plan.MaxBytesPerSecond).U32(0).U32(MainFlags)
            .U32(first is null ? 0u : (uint)plan.VideoSlots).U32(0).U32((uint)plan.StreamCount).U32((uint)plan.MaxChunkBytes)
            .U32((uint)(first?.Width ?? 0)).U32((uint)(first?.Height ?? 0)).U32(0).U32(0).U32(0).U32(0);
        foreach (var video in plan.VideoStreams)
        {
            w.Id("LIST"u8).U32(VideoListSize).Id("strl"u8);
            w.Id("strh"u8).U32(StreamHeaderSize).Id("vids"u8).Id("MJPG"u8).U32(0).U16(0).U16(0).U32(0)
                .U32(1).U32(AviExportPlan.FramesPerSecond).U32(0).U32((uint)plan.VideoSlots).U32((uint)video.MaxFrameBytes).U32(uint.MaxValue).U32(0)
                .U16(0).U16(0).U16((ushort)video.Width).U16((ushort)video.Height);
            w.Id("strf"u8).U32(BitmapInfoSize).U32(BitmapInfoSize).U32((uint)video.Width).U32((uint)video.Height).U16(1).U16(24)
                .Id("MJPG"u8).U32((uint)Math.Min(uint.MaxValue, 3L * video.Width * video.Height)).U32(0).U32(0).U32(0).U32(0);
        }

        // PCM: one block is one 16-bit mono sample, so the rate is the sample rate and lengths count samples.
        var rate = (uint)plan.SampleRate;
        w.Id("LIST"u8).U32(AudioListSize).Id("strl"u8);
        w.Id("strh"u8).U32(StreamHeaderSize).Id("auds"u8).U32(0).U32(0).U16(0).U16(0).U32(0)
            .U32(1).U32(rate).U32(0).U32((uint)plan.AudioSamples).U32((uint)plan.MaxAudioChunkBytes).U32(uint.MaxValue).U32(2)
            .U16(0).U16(0).U16(0).U16(0);
        w.Id("strf"u8).U32(WaveFormatSize).U16(1).U16(1).U32(rate).U32(rate * 2).U16(2).U16(16).U16(0);
        w.Id("LIST"u8).U32((uint)(4 + plan.MoviDataLength)).Id("movi"u8);
        return w.Written;
    }

    private static int HeaderListSize(int videoStreams) => 4 + 8 + MainHeaderSize + (videoStreams * (8 + VideoListSize)) + 8 + AudioListSize;

    private sealed class Cursor(byte[] destination)
    {
        public int Written { get; private set; }

        public Cursor Id(ReadOnlySpan<byte> fourCc)
        {
            fourCc.CopyTo(destination.AsSpan(Written));
            Written += 4;
            return this;
        }

        public Cursor U32(uint value)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination.AsSpan(Written), value);
            Written += 4;
            return this;
        }

        public Cursor U16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination.AsSpan(Written), value);
            Written += 2;
            return this;
        }
    }
}
