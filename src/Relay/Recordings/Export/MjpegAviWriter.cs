using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// Writes an <see cref="AviLayout"/> as a RIFF AVI 1.0 file (Motion-JPEG video, 16-bit PCM mono audio, an idx1
/// index) while reading the recording's frames once, in timeline order. It holds the audio mix of the chunks not yet
/// written (a sender's samples go on the timeline where its frames were received, within 100 ms of its own running
/// position) and the few video frames read ahead for the mix: memory does not grow with the recording's length.
/// </summary>
internal sealed class MjpegAviWriter
{
    private const int AvihSize = 56;
    private const int StrhSize = 56;
    private const int BitmapInfoSize = 40;
    private const int WaveFormatSize = 18;
    private const long DriftMicros = 100_000;

    private static readonly byte[] Pad = [0];

    private readonly AviLayout _layout;
    private readonly long _moviSize;
    private readonly int _hdrlSize;
    private readonly HashSet<int> _planned;
    private readonly byte[][] _chunkIds;

    public MjpegAviWriter(AviLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        _planned = [.. layout.Chunks.Where(static c => c.FrameIndex >= 0).Select(static c => c.FrameIndex)];
        _chunkIds = [.. Enumerable.Range(0, layout.Video.Count + 1).Select(stream => Encoding.ASCII.GetBytes($"{stream:00}{(stream == layout.AudioStream ? "wb" : "dc")}"))];
        _hdrlSize = 4 + 8 + AvihSize + (layout.Video.Count * (12 + 8 + StrhSize + 8 + BitmapInfoSize)) + (12 + 8 + StrhSize + 8 + WaveFormatSize);
        _moviSize = 4 + layout.Chunks.Sum(static c => 8L + c.Size + (c.Size & 1));
        FileLength = 12 + 8 + _hdrlSize + 8 + _moviSize + 8 + (16L * layout.Chunks.Count);
        if (FileLength > uint.MaxValue)
        {
            throw new InvalidOperationException($"The export would be {FileLength} bytes: an AVI 1.0 file holds at most 4 GiB.");
        }
    }

    public long FileLength { get; }

    public async Task WriteAsync(Stream output, IAsyncEnumerable<RecordedFrame> frames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(frames);
        await output.WriteAsync(Headers(), cancellationToken);

        var mix = new AudioMix(_layout.SampleRate, _layout.SamplesPerChunk);
        var held = new Dictionary<int, ReadOnlyMemory<byte>>();
        await using var source = frames.GetAsyncEnumerator(cancellationToken);
        var read = 0; // frames consumed so far, in the order of the layout's metadata
        long readTime = long.MinValue;
        var exhausted = false;
        var header = new byte[8];

        async Task<bool> PullAsync()
        {
            if (exhausted || !await source.MoveNextAsync())
            {
                exhausted = true;
                return false;
            }

            var frame = source.Current;
            readTime = frame.Info.TimeMicros;
            if (frame.Info.Kind == MediaKind.Audio)
            {
                mix.Add(frame);
            }
            else if (_planned.Contains(read))
            {
                // Frames the layout skips (superseded before any slot showed them) are not kept.
                held[read] = frame.Payload;
            }

            read++;
            return true;
        }

        foreach (var chunk in _layout.Chunks)
        {
            ReadOnlyMemory<byte> payload;
            if (chunk.AudioChunk >= 0)
            {
                // Everything that can land in this chunk has been read once the stream is past its end plus the drift.
                var needed = ((chunk.AudioChunk + 1) * AviLayout.AudioChunkMillis * 1000) + DriftMicros;
                while (readTime <= needed && await PullAsync())
                {
                }

                payload = mix.Take(chunk.AudioChunk, chunk.Size / 2);
            }
            else if (chunk.FrameIndex >= 0)
            {
                while (read <= chunk.FrameIndex)
                {
                    if (!await PullAsync())
                    {
                        throw new InvalidOperationException($"The recording ended at frame {read}, before frame {chunk.FrameIndex} of the export's plan.");
                    }
                }

                if (!held.Remove(chunk.FrameIndex, out payload) || payload.Length != chunk.Size)
                {
                    throw new InvalidOperationException($"Frame {chunk.FrameIndex} does not match the export's plan.");
                }
            }
            else
            {
                payload = ReadOnlyMemory<byte>.Empty;
            }

            _chunkIds[chunk.Stream].CopyTo(header, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)chunk.Size);
            await output.WriteAsync(header, cancellationToken);
            await output.WriteAsync(payload, cancellationToken);
            if ((chunk.Size & 1) == 1)
            {
                await output.WriteAsync(Pad, cancellationToken);
            }
        }

        await WriteIndexAsync(output, cancellationToken);
    }

    private async Task WriteIndexAsync(Stream output, CancellationToken cancellationToken)
    {
        var index = new byte[8 + (16 * _layout.Chunks.Count)];
        Encoding.ASCII.GetBytes("idx1", index);
        BinaryPrimitives.WriteUInt32LittleEndian(index.AsSpan(4), (uint)(16 * _layout.Chunks.Count));
        var offset = 4u; // from the 'movi' fourcc
        for (var i = 0; i < _layout.Chunks.Count; i++)
        {
            var chunk = _layout.Chunks[i];
            var entry = index.AsSpan(8 + (16 * i));
            _chunkIds[chunk.Stream].CopyTo(entry);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], chunk.Size > 0 ? 0x10u : 0u);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], offset);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[12..], (uint)chunk.Size);
            offset += 8u + (uint)chunk.Size + (uint)(chunk.Size & 1);
        }

        await output.WriteAsync(index, cancellationToken);
    }

    private byte[] Headers()
    {
        var w = new RiffWriter();
        w.FourCc("RIFF").U32((uint)(FileLength - 8)).FourCc("AVI ");
        w.FourCc("LIST").U32((uint)_hdrlSize).FourCc("hdrl");
        var (width, height) = _layout.Video.Count > 0 ? (_layout.Video[0].Width, _layout.Video[0].Height) : (0, 0);
        w.FourCc("avih").U32(AvihSize)
            .U32(1_000_000 / AviLayout.Fps).U32(0).U32(0).U32(0x110) // AVIF_HASINDEX | AVIF_ISINTERLEAVED
            .U32((uint)_layout.VideoSlots).U32(0).U32((uint)(_layout.Video.Count + 1)).U32(0)
            .U32((uint)width).U32((uint)height).U32(0).U32(0).U32(0).U32(0);
        foreach (var (_, w2, h2, maxFrame) in _layout.Video)
        {
            w.FourCc("LIST").U32(4 + 8 + StrhSize + 8 + BitmapInfoSize).FourCc("strl");
            w.FourCc("strh").U32(StrhSize).FourCc("vids").FourCc("MJPG").U32(0).U32(0).U32(0)
                .U32(1).U32(AviLayout.Fps).U32(0).U32((uint)_layout.VideoSlots).U32((uint)maxFrame).U32(uint.MaxValue).U32(0)
                .U16(0).U16(0).U16((ushort)w2).U16((ushort)h2);
            w.FourCc("strf").U32(BitmapInfoSize).U32(BitmapInfoSize).U32((uint)w2).U32((uint)h2).U16(1).U16(24)
                .FourCc("MJPG").U32((uint)(w2 * h2 * 3)).U32(0).U32(0).U32(0).U32(0);
        }

        var rate = (uint)_layout.SampleRate;
        w.FourCc("LIST").U32(4 + 8 + StrhSize + 8 + WaveFormatSize).FourCc("strl");
        w.FourCc("strh").U32(StrhSize).FourCc("auds").U32(0).U32(0).U32(0).U32(0)
            .U32(2).U32(rate * 2).U32(0).U32((uint)_layout.AudioSamples).U32((uint)(_layout.SamplesPerChunk * 2)).U32(uint.MaxValue).U32(2)
            .U16(0).U16(0).U16(0).U16(0);
        w.FourCc("strf").U32(WaveFormatSize).U16(1).U16(1).U32(rate).U32(rate * 2).U16(2).U16(16).U16(0);
        w.FourCc("LIST").U32((uint)_moviSize).FourCc("movi");
        return w.ToArray();
    }

    private sealed class RiffWriter
    {
        private readonly ArrayBufferWriter<byte> _stream = new();

        public RiffWriter FourCc(string id)
        {
            _stream.Write(Encoding.ASCII.GetBytes(id));
            return this;
        }

        public RiffWriter U32(uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
            _stream.Write(bytes);
            return this;
        }

        public RiffWriter U32(int value) => U32((uint)value);

        public RiffWriter U16(ushort value)
        {
            Span<byte> bytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
            _stream.Write(bytes);
            return this;
        }

        public byte[] ToArray() => _stream.WrittenSpan.ToArray();
    }
}
