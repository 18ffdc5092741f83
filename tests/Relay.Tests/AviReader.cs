using System.Buffers.Binary;
using System.Text;

namespace PgVideoChat.Relay.Tests;

/// <summary>One chunk of an AVI's movi list.</summary>
internal sealed record AviChunkRead(string Id, byte[] Payload);

/// <summary>Reads a RIFF AVI whole (tests only): the stream headers, the movi chunks and the idx1 entries.</summary>
internal sealed class AviReader
{
    private AviReader(List<string> streamTypes, List<AviChunkRead> chunks, List<(string Id, uint Offset, uint Size)> index, uint totalFrames)
    {
        StreamTypes = streamTypes;
        Chunks = chunks;
        Index = index;
        TotalFrames = totalFrames;
    }

    public IReadOnlyList<string> StreamTypes { get; }

    public IReadOnlyList<AviChunkRead> Chunks { get; }

    public IReadOnlyList<(string Id, uint Offset, uint Size)> Index { get; }

    public uint TotalFrames { get; }

    public static AviReader Read(byte[] file)
    {
        Assert.Equal("RIFF", FourCc(file, 0));
        Assert.Equal((uint)(file.Length - 8), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(4)));
        Assert.Equal("AVI ", FourCc(file, 8));
        var types = new List<string>();
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
                Assert.True(at + 8 + size <= end, $"chunk {id} at {at} runs past its list");
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
        Assert.True(moviStart > 0, "no movi list");
        // The index names every chunk, in order, where it is (offsets from the 'movi' fourcc).
        Assert.Equal(chunks.Count, index.Count);
        for (var i = 0; i < index.Count; i++)
        {
            var (id, offset, size) = index[i];
            Assert.Equal(chunks[i].Id, id);
            Assert.Equal((uint)chunks[i].Payload.Length, size);
            Assert.Equal(id, FourCc(file, moviStart + (int)offset));
        }

        return new AviReader(types, chunks, index, totalFrames);
    }

    private static string FourCc(byte[] file, int at) => Encoding.ASCII.GetString(file, at, 4);
}
