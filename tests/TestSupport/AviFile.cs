using System.Buffers.Binary;
using System.Text;

namespace PgVideoChat.TestSupport;

/// <summary>One chunk of an AVI's movi list.</summary>
public sealed record AviChunkRead(string Id, byte[] Payload);

/// <summary>
/// Reads a RIFF AVI whole (tests only): the stream headers, the movi chunks and the idx1 entries; a file whose sizes,
/// lists or index do not agree is <see cref="InvalidDataException"/>.
/// </summary>
public sealed class AviFile
{
    private AviFile(List<string> streamTypes, List<double> rates, List<AviChunkRead> chunks, List<(string Id, uint Offset, uint Size)> index, uint totalFrames)
    {
        StreamTypes = streamTypes;
        Rates = rates;
        Chunks = chunks;
        Index = index;
        TotalFrames = totalFrames;
    }

    public IReadOnlyList<string> StreamTypes { get; }

    /// <summary>Each stream's rate (dwRate / dwScale): frames per second, or for PCM bytes per second over the block size, i.e. samples per second.</summary>
    public IReadOnlyList<double> Rates { get; }

    public IReadOnlyList<AviChunkRead> Chunks { get; }

    public IReadOnlyList<(string Id, uint Offset, uint Size)> Index { get; }

    public uint TotalFrames { get; }

    public static AviFile Read(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Check(FourCc(file, 0) == "RIFF" && FourCc(file, 8) == "AVI ", "not a RIFF AVI");
        Check(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(4)) == (uint)(file.Length - 8), "the RIFF size is not the file's");
        var types = new List<string>();
        var rates = new List<double>();
        var chunks = new List<AviChunkRead>();
        var index = new List<(string, uint, uint)>();
        uint totalFrames = 0;
        var moviStart = -1;
        void Walk(int start, int end)
        {
            for (var at = start; at + 8 <= end;)
            {
                var id = FourCc(file, at);
                var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
                Check(at + 8 + size <= end, $"chunk {id} at {at} runs past its list");
                if (id == "LIST")
                {
                    var listType = FourCc(file, at + 8);
                    if (listType == "movi")
                    {
                        moviStart = at + 8;
                        for (var c = at + 12; c < at + 8 + size;)
                        {
                            var cid = FourCc(file, c);
                            var csize = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(c + 4));
                            chunks.Add(new AviChunkRead(cid, file.AsSpan(c + 8, csize).ToArray()));
                            c += 8 + csize + (csize & 1);
                        }
                    }
                    else
                    {
                        Walk(at + 12, at + 8 + size);
                    }
                }
                else if (id == "avih")
                {
                    totalFrames = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8 + 16));
                }
                else if (id == "strh")
                {
                    types.Add(FourCc(file, at + 8));
                    var scale = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8 + 20));
                    rates.Add(scale == 0 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8 + 24)) / (double)scale);
                }
                else if (id == "idx1")
                {
                    for (var e = at + 8; e < at + 8 + size; e += 16)
                    {
                        index.Add((FourCc(file, e), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(e + 8)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(e + 12))));
                    }
                }

                at += 8 + size + (size & 1);
            }
        }

        Walk(12, file.Length);
        Check(moviStart > 0, "no movi list");
        // The index names every chunk, in order, where it is (offsets from the 'movi' fourcc).
        Check(chunks.Count == index.Count, $"idx1 has {index.Count} entries for {chunks.Count} chunks");
        for (var i = 0; i < index.Count; i++)
        {
            var (id, offset, size) = index[i];
            Check(chunks[i].Id == id && (uint)chunks[i].Payload.Length == size && FourCc(file, moviStart + (int)offset) == id,
                $"idx1 entry {i} ({id}, {offset}, {size}) does not name chunk {i} ({chunks[i].Id}, {chunks[i].Payload.Length} bytes)");
        }

        return new AviFile(types, rates, chunks, index, totalFrames);
    }

    /// <summary>The PCM16 samples of the chunks with <paramref name="id"/>, one after the other.</summary>
    public short[] Samples(string id)
    {
        var bytes = Chunks.Where(c => c.Id == id).SelectMany(static c => c.Payload).ToArray();
        var samples = new short[bytes.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(i * 2));
        }

        return samples;
    }

    /// <summary>The power of <paramref name="hz"/> in the samples (Goertzel), normalised by their count.</summary>
    public static double TonePower(ReadOnlySpan<short> samples, int sampleRate, double hz)
    {
        var coefficient = 2 * Math.Cos(2 * Math.PI * hz / sampleRate);
        double s1 = 0, s2 = 0;
        foreach (var sample in samples)
        {
            var s0 = sample + (coefficient * s1) - s2;
            s2 = s1;
            s1 = s0;
        }

        return ((s1 * s1) + (s2 * s2) - (coefficient * s1 * s2)) / ((double)samples.Length * samples.Length);
    }

    private static void Check(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvalidDataException(problem);
        }
    }

    private static string FourCc(byte[] file, int at) => Encoding.ASCII.GetString(file, at, 4);
}
