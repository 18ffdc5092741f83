namespace PgVideoChat.LoadTests.Media;

/// <summary>
/// A small baseline (sequential DCT, Huffman) JPEG encoder: 8-bit RGB in, a JFIF byte stream out. YCbCr 4:4:4,
/// the standard quantisation tables of ITU-T T.81 Annex K scaled by an IJG quality, the standard Huffman tables.
/// Enough to give the load runner real JPEG frames of a webcam's size without an imaging dependency.
/// </summary>
internal static class JpegEncoder
{
    private static readonly byte[] ZigZag =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    private static readonly byte[] LuminanceQuantization =
    [
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99,
    ];

    private static readonly byte[] ChrominanceQuantization =
    [
        17, 18, 24, 47, 99, 99, 99, 99,
        18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
    ];

    private static readonly byte[] DcLuminanceBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] DcChrominanceBits = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    private static readonly byte[] DcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    private static readonly byte[] AcLuminanceBits = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];

    private static readonly byte[] AcLuminanceValues =
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
        0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
        0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
        0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];

    private static readonly byte[] AcChrominanceBits = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];

    private static readonly byte[] AcChrominanceValues =
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
        0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
        0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
        0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
        0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];

    private static readonly HuffmanTable DcLuminance = new(DcLuminanceBits, DcValues);
    private static readonly HuffmanTable DcChrominance = new(DcChrominanceBits, DcValues);
    private static readonly HuffmanTable AcLuminance = new(AcLuminanceBits, AcLuminanceValues);
    private static readonly HuffmanTable AcChrominance = new(AcChrominanceBits, AcChrominanceValues);

    // cos((2x + 1) u π / 16) * C(u) / 2, so that a 1-D pass is a plain matrix product.
    private static readonly double[] DctMatrix = BuildDctMatrix();

    /// <summary>Encodes <paramref name="rgb"/> (width × height × 3 bytes, row-major) as a baseline JPEG.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height, int quality)
    {
        if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(width), "Width and height must be 1..65535.");
        }

        if (rgb.Length < width * height * 3)
        {
            throw new ArgumentException("The pixel buffer is smaller than width × height × 3.", nameof(rgb));
        }

        var luminanceTable = Scale(LuminanceQuantization, quality);
        var chrominanceTable = Scale(ChrominanceQuantization, quality);

        var output = new MemoryStream(width * height / 4);
        WriteHeaders(output, width, height, luminanceTable, chrominanceTable);

        var bits = new BitWriter(output);
        Span<double> y = stackalloc double[64];
        Span<double> cb = stackalloc double[64];
        Span<double> cr = stackalloc double[64];
        Span<double> scratch = stackalloc double[64];
        Span<int> quantized = stackalloc int[64];
        int previousY = 0, previousCb = 0, previousCr = 0;

        for (var blockY = 0; blockY < height; blockY += 8)
        {
            for (var blockX = 0; blockX < width; blockX += 8)
            {
                for (var row = 0; row < 8; row++)
                {
                    var sourceY = Math.Min(blockY + row, height - 1);
                    for (var column = 0; column < 8; column++)
                    {
                        var sourceX = Math.Min(blockX + column, width - 1);
                        var offset = ((sourceY * width) + sourceX) * 3;
                        double r = rgb[offset], g = rgb[offset + 1], b = rgb[offset + 2];
                        var index = (row * 8) + column;
                        y[index] = (0.299 * r) + (0.587 * g) + (0.114 * b) - 128;
                        cb[index] = (-0.168736 * r) - (0.331264 * g) + (0.5 * b);
                        cr[index] = (0.5 * r) - (0.418688 * g) - (0.081312 * b);
                    }
                }

                previousY = EncodeBlock(bits, y, scratch, quantized, luminanceTable, previousY, DcLuminance, AcLuminance);
                previousCb = EncodeBlock(bits, cb, scratch, quantized, chrominanceTable, previousCb, DcChrominance, AcChrominance);
                previousCr = EncodeBlock(bits, cr, scratch, quantized, chrominanceTable, previousCr, DcChrominance, AcChrominance);
            }
        }

        bits.Flush();
        output.WriteByte(0xFF);
        output.WriteByte(0xD9);
        return output.ToArray();
    }

    private static byte[] Scale(byte[] table, int quality)
    {
        quality = Math.Clamp(quality, 1, 100);
        var scale = quality < 50 ? 5000 / quality : 200 - (quality * 2);
        var scaled = new byte[64];
        for (var i = 0; i < 64; i++)
        {
            scaled[i] = (byte)Math.Clamp(((table[i] * scale) + 50) / 100, 1, 255);
        }

        return scaled;
    }

    private static double[] BuildDctMatrix()
    {
        var matrix = new double[64];
        for (var u = 0; u < 8; u++)
        {
            var c = u == 0 ? Math.Sqrt(0.5) : 1.0;
            for (var x = 0; x < 8; x++)
            {
                matrix[(u * 8) + x] = c / 2 * Math.Cos(((2 * x) + 1) * u * Math.PI / 16);
            }
        }

        return matrix;
    }

    private static int EncodeBlock(BitWriter bits, Span<double> block, Span<double> scratch, Span<int> quantized, byte[] table, int previousDc, HuffmanTable dc, HuffmanTable ac)
    {
        // Rows, then columns: F = M · f · Mᵀ.
        for (var row = 0; row < 8; row++)
        {
            for (var u = 0; u < 8; u++)
            {
                var sum = 0.0;
                for (var x = 0; x < 8; x++)
                {
                    sum += DctMatrix[(u * 8) + x] * block[(row * 8) + x];
                }

                scratch[(row * 8) + u] = sum;
            }
        }

        for (var column = 0; column < 8; column++)
        {
            for (var v = 0; v < 8; v++)
            {
                var sum = 0.0;
                for (var y = 0; y < 8; y++)
                {
                    sum += DctMatrix[(v * 8) + y] * scratch[(y * 8) + column];
                }

                block[(v * 8) + column] = sum;
            }
        }

        for (var k = 0; k < 64; k++)
        {
            var natural = ZigZag[k];
            quantized[k] = (int)Math.Round(block[natural] / table[natural], MidpointRounding.AwayFromZero);
        }

        var difference = quantized[0] - previousDc;
        var category = Category(difference);
        bits.Write(dc.Codes[category], dc.Lengths[category]);
        bits.WriteValue(difference, category);

        var run = 0;
        for (var k = 1; k < 64; k++)
        {
            var value = quantized[k];
            if (value == 0)
            {
                run++;
                continue;
            }

            while (run > 15)
            {
                bits.Write(ac.Codes[0xF0], ac.Lengths[0xF0]);
                run -= 16;
            }

            category = Category(value);
            var symbol = (run << 4) | category;
            bits.Write(ac.Codes[symbol], ac.Lengths[symbol]);
            bits.WriteValue(value, category);
            run = 0;
        }

        if (run > 0)
        {
            bits.Write(ac.Codes[0x00], ac.Lengths[0x00]);
        }

        return quantized[0];
    }

    private static int Category(int value)
    {
        value = Math.Abs(value);
        var category = 0;
        while (value > 0)
        {
            category++;
            value >>= 1;
        }

        return category;
    }

    private static void WriteHeaders(MemoryStream output, int width, int height, byte[] luminanceTable, byte[] chrominanceTable)
    {
        output.Write([0xFF, 0xD8]);
        output.Write([0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);

        output.Write([0xFF, 0xDB, 0x00, 2 + (2 * 65)]);
        output.WriteByte(0x00);
        foreach (var natural in ZigZag)
        {
            output.WriteByte(luminanceTable[natural]);
        }

        output.WriteByte(0x01);
        foreach (var natural in ZigZag)
        {
            output.WriteByte(chrominanceTable[natural]);
        }

        output.Write([0xFF, 0xC0, 0x00, 17, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);

        var huffmanLength = 2 + (4 * 17) + DcValues.Length + AcLuminanceValues.Length + DcValues.Length + AcChrominanceValues.Length;
        output.Write([0xFF, 0xC4, (byte)(huffmanLength >> 8), (byte)huffmanLength]);
        WriteHuffman(output, 0x00, DcLuminanceBits, DcValues);
        WriteHuffman(output, 0x10, AcLuminanceBits, AcLuminanceValues);
        WriteHuffman(output, 0x01, DcChrominanceBits, DcValues);
        WriteHuffman(output, 0x11, AcChrominanceBits, AcChrominanceValues);

        output.Write([0xFF, 0xDA, 0x00, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    }

    private static void WriteHuffman(MemoryStream output, byte classAndId, byte[] bits, byte[] values)
    {
        output.WriteByte(classAndId);
        output.Write(bits);
        output.Write(values);
    }

    /// <summary>A canonical Huffman code built from the BITS/HUFFVAL lists of a DHT segment.</summary>
    private sealed class HuffmanTable
    {
        public HuffmanTable(byte[] bits, byte[] values)
        {
            var total = 0;
            foreach (var count in bits)
            {
                total += count;
            }

            if (total != values.Length)
            {
                throw new InvalidOperationException($"A Huffman table lists {total} codes for {values.Length} values.");
            }

            var code = 0;
            var next = 0;
            for (var length = 1; length <= 16; length++)
            {
                for (var i = 0; i < bits[length - 1]; i++)
                {
                    var symbol = values[next++];
                    Codes[symbol] = code++;
                    Lengths[symbol] = length;
                }

                code <<= 1;
            }
        }

        public int[] Codes { get; } = new int[256];

        public int[] Lengths { get; } = new int[256];
    }

    /// <summary>Entropy-coded segment writer: MSB first, 0xFF followed by a stuffed 0x00, padded with 1 bits.</summary>
    private sealed class BitWriter(MemoryStream output)
    {
        private int _buffer;
        private int _count;

        public void Write(int code, int length)
        {
            if (length == 0)
            {
                throw new InvalidOperationException("A symbol without a Huffman code was encoded.");
            }

            Append(code, length);
        }

        /// <summary>The extra bits of a coefficient: the value itself, or value − 1 in ones' complement form when negative.</summary>
        public void WriteValue(int value, int category)
        {
            if (category == 0)
            {
                return;
            }

            if (value < 0)
            {
                value += (1 << category) - 1;
            }

            Append(value, category);
        }

        public void Flush()
        {
            if (_count > 0)
            {
                Append((1 << (8 - _count)) - 1, 8 - _count);
            }
        }

        private void Append(int bits, int length)
        {
            _buffer = (_buffer << length) | (bits & ((1 << length) - 1));
            _count += length;
            while (_count >= 8)
            {
                var value = (byte)(_buffer >> (_count - 8));
                output.WriteByte(value);
                if (value == 0xFF)
                {
                    output.WriteByte(0x00);
                }

                _count -= 8;
            }

            _buffer &= (1 << _count) - 1;
        }
    }
}
