using System.Buffers.Binary;
using System.Text;

namespace PgVideoChat.TestSupport.Media;

/// <summary>
/// A RIFF AVI 1.0 file read whole, for tests: the main header, each stream's header and format, the <c>movi</c>
/// chunks in file order (payloads are slices of the file) and the <c>idx1</c> entries. Reading checks what a player
/// relies on and throws <see cref="InvalidDataException"/> naming the first thing wrong: the RIFF size is the file's,
/// every chunk fits in its list, the stream count is the main header's, every chunk id names a stream of the right
/// type, and the index has one entry per chunk with its id, size and offset (from the <c>movi</c> fourcc, as most
/// writers do, or from the file's start).
/// </summary>
public sealed class AviFile
{
    private readonly List<Chunk> _chunks = [];
    private readonly List<IndexEntry> _index = [];
    private readonly List<StreamInfo> _streams = [];

    private AviFile(ReadOnlyMemory<byte> file) => Bytes = file;

    /// <summary>The whole file.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    public int MicroSecPerFrame { get; private set; }

    public int MaxBytesPerSec { get; private set; }

    public int Flags { get; private set; }

    public int TotalFrames { get; private set; }

    public int StreamCount { get; private set; }

    public int SuggestedBufferSize { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public IReadOnlyList<StreamInfo> Streams => _streams;

    /// <summary>The <c>movi</c> chunks in file order.</summary>
    public IReadOnlyList<Chunk> Chunks => _chunks;

    public IReadOnlyList<IndexEntry> Index => _index;

    /// <summary>True when the index's offsets count from the <c>movi</c> fourcc; false when from the file's start.</summary>
    public bool IndexFromMovi { get; private set; }

    /// <summary>The file offset of the <c>movi</c> fourcc.</summary>
    public long MoviOffset { get; private set; }

    public static AviFile Parse(ReadOnlyMemory<byte> file)
    {
        var avi = new AviFile(file);
        avi.Read();
        return avi;
    }

    public static async Task<AviFile> ReadAsync(System.IO.Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return Parse(copy.ToArray());
    }

    /// <summary>The chunks of stream <paramref name="stream"/>, in order.</summary>
    public IReadOnlyList<Chunk> ChunksOf(int stream) => _chunks.Where(c => c.Stream == stream).ToList();

    /// <summary>The payloads of stream <paramref name="stream"/> one after the other (for audio: its samples).</summary>
    public byte[] DataOf(int stream)
    {
        using var data = new MemoryStream();
        foreach (var chunk in ChunksOf(stream))
        {
            data.Write(chunk.Payload.Span);
        }

        return data.ToArray();
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvalidDataException("Not a valid AVI: " + problem + ".");
        }
    }

    private string FourCc(int at) => Encoding.ASCII.GetString(Bytes.Span.Slice(at, 4));

    private int I32(int at) => BinaryPrimitives.ReadInt32LittleEndian(Bytes.Span[at..]);

    private int U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.Span[at..]);

    private void Read()
    {
        var length = Bytes.Length;
        Check(length >= 12 && FourCc(0) == "RIFF" && FourCc(8) == "AVI ", "no RIFF 'AVI ' header");
        Check((uint)I32(4) == (uint)(length - 8), $"the RIFF size {(uint)I32(4)} is not the file's {length} - 8");
        bool header = false, movi = false, index = false;
        foreach (var (id, at, size) in Children(12, length))
        {
            if (id == "LIST" && FourCc(at + 8) == "hdrl")
            {
                ReadHeaderList(at + 12, at + 8 + size);
                header = true;
            }
            else if (id == "LIST" && FourCc(at + 8) == "movi")
            {
                Check(header, "movi comes before hdrl");
                MoviOffset = at + 8;
                ReadMovi(at + 12, at + 8 + size);
                movi = true;
            }
            else if (id == "idx1")
            {
                Check(size % 16 == 0, $"idx1's size {size} is not a multiple of 16");
                for (var entry = at + 8; entry < at + 8 + size; entry += 16)
                {
                    _index.Add(new IndexEntry(FourCc(entry), I32(entry + 4), (uint)I32(entry + 8), I32(entry + 12)));
                }

                index = true;
            }
        }

        Check(header, "no hdrl list");
        Check(movi, "no movi list");
        Check(index, "no idx1 index");
        CheckIndex();
    }

    // The chunks of a list's body: id, offset of the chunk's header, size (without the pad byte).
    private IEnumerable<(string Id, int At, int Size)> Children(int start, int end)
    {
        for (var at = start; at < end;)
        {
            Check(at + 8 <= end, $"a chunk header at {at} runs past its list's end {end}");
            var id = FourCc(at);
            var size = I32(at + 4);
            Check(size >= 0 && (long)at + 8 + size <= end, $"chunk '{id}' at {at} ({size} bytes) runs past its list's end {end}");
            yield return (id, at, size);
            at += 8 + size + (size & 1);
        }
    }

    private void ReadHeaderList(int start, int end)
    {
        var main = false;
        foreach (var (id, at, size) in Children(start, end))
        {
            if (id == "avih")
            {
                Check(size >= 40, $"avih is {size} bytes");
                MicroSecPerFrame = I32(at + 8);
                MaxBytesPerSec = I32(at + 12);
                Flags = I32(at + 20);
                TotalFrames = I32(at + 24);
                StreamCount = I32(at + 32);
                SuggestedBufferSize = I32(at + 36);
                Width = I32(at + 40);
                Height = I32(at + 44);
                main = true;
            }
            else if (id == "LIST" && FourCc(at + 8) == "strl")
            {
                ReadStreamList(at + 12, at + 8 + size);
            }
        }

        Check(main, "no avih in hdrl");
        Check(_streams.Count == StreamCount, $"avih says {StreamCount} streams, hdrl has {_streams.Count}");
    }

    private void ReadStreamList(int start, int end)
    {
        StreamInfo? stream = null;
        foreach (var (id, at, size) in Children(start, end))
        {
            var body = at + 8;
            if (id == "strh")
            {
                Check(size >= 48, $"strh is {size} bytes");
                stream = new StreamInfo
                {
                    Index = _streams.Count,
                    Type = FourCc(body),
                    Handler = I32(body + 4) == 0 ? string.Empty : FourCc(body + 4),
                    Scale = I32(body + 20),
                    Rate = I32(body + 24),
                    Start = I32(body + 28),
                    Length = I32(body + 32),
                    SuggestedBufferSize = I32(body + 36),
                    SampleSize = I32(body + 44),
                };
            }
            else if (id == "strf")
            {
                Check(stream is not null, "strf before strh");
                stream = stream!.Type switch
                {
                    "vids" when size >= 40 => stream with
                    {
                        Width = I32(body + 4),
                        Height = I32(body + 8),
                        BitCount = U16(body + 14),
                        Compression = FourCc(body + 16),
                    },
                    "auds" when size >= 16 => stream with
                    {
                        FormatTag = U16(body),
                        Channels = U16(body + 2),
                        SampleRate = I32(body + 4),
                        AvgBytesPerSec = I32(body + 8),
                        BlockAlign = U16(body + 12),
                        BitsPerSample = U16(body + 14),
                    },
                    _ => throw new InvalidDataException($"Not a valid AVI: a '{stream.Type}' stream's strf is {size} bytes."),
                };
            }
        }

        Check(stream is not null, "a strl without strh");
        _streams.Add(stream!);
    }

    private void ReadMovi(int start, int end)
    {
        foreach (var (id, at, size) in Children(start, end))
        {
            if (id == "LIST" && FourCc(at + 8) == "rec ")
            {
                ReadMovi(at + 12, at + 8 + size);
                continue;
            }

            Check(id.Length == 4 && char.IsAsciiDigit(id[0]) && char.IsAsciiDigit(id[1]), $"movi chunk '{id}' at {at} names no stream");
            var stream = ((id[0] - '0') * 10) + (id[1] - '0');
            Check(stream < _streams.Count, $"movi chunk '{id}' at {at} names stream {stream} of {_streams.Count}");
            var type = _streams[stream].Type;
            var kind = id[2..];
            Check(type == "vids" ? kind is "dc" or "db" : type != "auds" || kind == "wb", $"movi chunk '{id}' at {at} does not fit a '{type}' stream");
            _chunks.Add(new Chunk(id, stream, at, Bytes.Slice(at + 8, size)));
        }
    }

    private void CheckIndex()
    {
        Check(_index.Count == _chunks.Count, $"idx1 has {_index.Count} entries for {_chunks.Count} movi chunks");
        if (_chunks.Count == 0)
        {
            IndexFromMovi = true;
            return;
        }

        IndexFromMovi = _index[0].Offset == _chunks[0].Offset - MoviOffset;
        Check(IndexFromMovi || _index[0].Offset == _chunks[0].Offset, $"idx1's first offset {_index[0].Offset} is neither from movi nor from the file's start");
        var origin = IndexFromMovi ? MoviOffset : 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            var (entry, chunk) = (_index[i], _chunks[i]);
            Check(entry.Id == chunk.Id && entry.Size == chunk.Payload.Length && entry.Offset + origin == chunk.Offset,
                $"idx1 entry {i} ({entry.Id}, {entry.Size} bytes at {entry.Offset}) is not movi chunk {i} ({chunk.Id}, {chunk.Payload.Length} bytes at {chunk.Offset - origin})");
        }
    }

    /// <summary>One stream's <c>strh</c> and <c>strf</c>: the video fields are 0 for audio and the other way round.</summary>
    public sealed record StreamInfo
    {
        public int Index { get; init; }

        /// <summary><c>vids</c> or <c>auds</c>.</summary>
        public string Type { get; init; } = string.Empty;

        /// <summary>The codec's fourcc (<c>MJPG</c>), empty when 0.</summary>
        public string Handler { get; init; } = string.Empty;

        public int Scale { get; init; }

        public int Rate { get; init; }

        public int Start { get; init; }

        /// <summary>In units of Scale/Rate seconds: frames for video, samples (blocks) for PCM.</summary>
        public int Length { get; init; }

        public int SuggestedBufferSize { get; init; }

        public int SampleSize { get; init; }

        public int Width { get; init; }

        public int Height { get; init; }

        public int BitCount { get; init; }

        public string Compression { get; init; } = string.Empty;

        public int FormatTag { get; init; }

        public int Channels { get; init; }

        public int SampleRate { get; init; }

        public int AvgBytesPerSec { get; init; }

        public int BlockAlign { get; init; }

        public int BitsPerSample { get; init; }

        public double DurationSeconds => Rate == 0 ? 0 : (double)Length * Scale / Rate;
    }

    /// <summary>A <c>movi</c> chunk: its id (<c>00dc</c>, <c>01wb</c>), stream, file offset of its header and payload.</summary>
    public sealed record Chunk(string Id, int Stream, long Offset, ReadOnlyMemory<byte> Payload);

    /// <summary>An <c>idx1</c> entry as written.</summary>
    public sealed record IndexEntry(string Id, int Flags, long Offset, int Size);
}
