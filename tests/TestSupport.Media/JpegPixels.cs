using System.Buffers;
using JpegLibrary;

namespace PgVideoChat.TestSupport.Media;

/// <summary>
/// JPEG pictures for tests, through JpegLibrary (managed, no native codec): encode RGB (4:4:4, standard tables) and
/// decode to RGB (grayscale or YCbCr, 8-bit, baseline or progressive), with the colour conversion of JFIF (BT.601,
/// full range). Colours survive within a few units for flat areas, which is what the tests compare.
/// </summary>
public static class JpegPixels
{
    /// <summary>A <paramref name="width"/>×<paramref name="height"/> picture of one colour.</summary>
    public static byte[] EncodeSolid(int width, int height, (byte R, byte G, byte B) colour, int quality = 90)
    {
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < rgb.Length; i += 3)
        {
            (rgb[i], rgb[i + 1], rgb[i + 2]) = colour;
        }

        return Encode(width, height, rgb, quality);
    }

    /// <summary>Encodes <paramref name="rgb"/> (3 bytes a pixel, rows top down) as a baseline JPEG.</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb, int quality = 90)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(rgb.Length, width * height * 3);
        var ycbcr = new byte[rgb.Length];
        for (var i = 0; i < rgb.Length; i += 3)
        {
            double r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
            ycbcr[i] = Clamp((0.299 * r) + (0.587 * g) + (0.114 * b));
            ycbcr[i + 1] = Clamp(128 - (0.168736 * r) - (0.331264 * g) + (0.5 * b));
            ycbcr[i + 2] = Clamp(128 + (0.5 * r) - (0.418688 * g) - (0.081312 * b));
        }

        var encoder = new JpegEncoder();
        encoder.SetQuantizationTable(JpegStandardQuantizationTable.ScaleByQuality(JpegStandardQuantizationTable.GetLuminanceTable(JpegElementPrecision.Precision8Bit, 0), quality));
        encoder.SetQuantizationTable(JpegStandardQuantizationTable.ScaleByQuality(JpegStandardQuantizationTable.GetChrominanceTable(JpegElementPrecision.Precision8Bit, 1), quality));
        encoder.SetHuffmanTable(true, 0, JpegStandardHuffmanEncodingTable.GetLuminanceDCTable());
        encoder.SetHuffmanTable(false, 0, JpegStandardHuffmanEncodingTable.GetLuminanceACTable());
        encoder.SetHuffmanTable(true, 1, JpegStandardHuffmanEncodingTable.GetChrominanceDCTable());
        encoder.SetHuffmanTable(false, 1, JpegStandardHuffmanEncodingTable.GetChrominanceACTable());
        encoder.AddComponent(1, 0, 0, 0, 1, 1);
        encoder.AddComponent(2, 1, 1, 1, 1, 1);
        encoder.AddComponent(3, 1, 1, 1, 1, 1);
        encoder.SetInputReader(new InputReader(width, height, ycbcr));
        var output = new ArrayBufferWriter<byte>();
        encoder.SetOutput(output);
        encoder.Encode();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a JPEG to RGB, 3 bytes a pixel, rows top down.</summary>
    public static (int Width, int Height, byte[] Rgb) Decode(byte[] jpeg)
    {
        var decoder = new JpegDecoder();
        decoder.SetInput(jpeg);
        decoder.Identify();
        var (width, height, components) = (decoder.Width, decoder.Height, decoder.NumberOfComponents);
        if (components is not (1 or 3) || decoder.Precision != 8)
        {
            throw new NotSupportedException($"A JPEG of {components} components at {decoder.Precision} bits.");
        }

        var ycbcr = new byte[width * height * 3];
        decoder.SetOutputWriter(new OutputWriter(width, height, ycbcr));
        decoder.Decode();
        var rgb = new byte[ycbcr.Length];
        for (var i = 0; i < ycbcr.Length; i += 3)
        {
            double y = ycbcr[i], cb = components == 1 ? 128 : ycbcr[i + 1], cr = components == 1 ? 128 : ycbcr[i + 2];
            rgb[i] = Clamp(y + (1.402 * (cr - 128)));
            rgb[i + 1] = Clamp(y - (0.344136 * (cb - 128)) - (0.714136 * (cr - 128)));
            rgb[i + 2] = Clamp(y + (1.772 * (cb - 128)));
        }

        return (width, height, rgb);
    }

    /// <summary>The colour at (<paramref name="x"/>, <paramref name="y"/>), fractions of the width and height (0.5, 0.5 is the centre).</summary>
    public static (byte R, byte G, byte B) PixelAt(byte[] jpeg, double x, double y)
    {
        var (width, height, rgb) = Decode(jpeg);
        var column = Math.Clamp((int)(x * width), 0, width - 1);
        var row = Math.Clamp((int)(y * height), 0, height - 1);
        var at = ((row * width) + column) * 3;
        return (rgb[at], rgb[at + 1], rgb[at + 2]);
    }

    private static byte Clamp(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);

    // Hands the encoder 8×8 blocks of one component; past the picture's edge the last row and column repeat.
    private sealed class InputReader(int width, int height, byte[] ycbcr) : JpegBlockInputReader
    {
        public override int Width => width;

        public override int Height => height;

        public override void ReadBlock(ref short blockRef, int componentIndex, int x, int y)
        {
            var block = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref blockRef, 64);
            for (var row = 0; row < 8; row++)
            {
                var sourceRow = Math.Min(y + row, height - 1);
                for (var column = 0; column < 8; column++)
                {
                    var sourceColumn = Math.Min(x + column, width - 1);
                    block[(row * 8) + column] = ycbcr[(((sourceRow * width) + sourceColumn) * 3) + componentIndex];
                }
            }
        }
    }

    // Takes the decoder's 8×8 blocks (already upsampled to picture coordinates) into interleaved bytes.
    private sealed class OutputWriter(int width, int height, byte[] ycbcr) : JpegBlockOutputWriter
    {
        public override void WriteBlock(ref short blockRef, int componentIndex, int x, int y)
        {
            var block = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref blockRef, 64);
            for (var row = 0; row < 8 && y + row < height; row++)
            {
                for (var column = 0; column < 8 && x + column < width; column++)
                {
                    ycbcr[(((((y + row) * width) + x + column) * 3) + componentIndex)] = (byte)Math.Clamp((int)block[(row * 8) + column], 0, 255);
                }
            }
        }
    }
}
