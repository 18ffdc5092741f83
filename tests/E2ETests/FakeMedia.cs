using System.Buffers.Binary;
using System.Text;

namespace PgVideoChat.E2ETests;

/// <summary>
/// What one participant's fake camera and microphone show and play: a solid colour with a small white square that
/// moves left to right through the middle of the picture, and a sine tone. A <see cref="Detailed"/> camera is 640×360
/// with fine grain over the colour, so its JPEGs weigh what a real camera's do (tens of KB, not 2 KB) and video, not
/// audio, is most of what a receiver's link carries.
/// </summary>
public sealed record FakeMediaSpec(string Name, string Colour, byte Y, byte U, byte V, int ToneHz, bool Detailed = false)
{
    public static readonly FakeMediaSpec Alice = new("Alice", "red", 82, 90, 240, 440);
    public static readonly FakeMediaSpec Bob = new("Bob", "blue", 41, 240, 110, 880);
    public static readonly FakeMediaSpec Carol = new("Carol", "green", 145, 54, 34, 660);
}

/// <summary>
/// Writes the files Chromium plays as its fake camera (<c>--use-file-for-fake-video-capture</c>, y4m) and fake
/// microphone (<c>--use-file-for-fake-audio-capture</c>, wav). Chromium loops both.
/// </summary>
public static class FakeMedia
{
    public const int Width = 320;
    public const int Height = 240;
    public const int Fps = 15;
    public const int VideoSeconds = 4;

    /// <summary>The moving square: its size and the rows it covers (it moves along x only).</summary>
    public const int SquareSize = 40;
    public const int SquareTop = (Height - SquareSize) / 2;

    public const int AudioSampleRate = 48_000;
    public const int AudioSeconds = 2; // whole cycles of every tone used: the loop does not click
    public const double AudioAmplitude = 0.5;

    /// <summary>A spot (fractions of the picture) the square never covers: it shows only the participant's colour.</summary>
    public static readonly (double X, double Y) ColourSpot = (0.15, 0.15);

    /// <summary>Spots along the row the square moves through (fractions of the picture), left to right.</summary>
    public static readonly IReadOnlyList<(double X, double Y)> SquarePath =
        [.. Enumerable.Range(0, 16).Select(i => ((i + 0.5) / 16, 0.5))];

    /// <summary>The x (pixels) of the square's left edge in a frame.</summary>
    public static int SquareLeft(int frame)
    {
        const int frames = Fps * VideoSeconds;
        return (frame % frames) * (Width - SquareSize) / (frames - 1) / 2 * 2;
    }

    /// <summary>A detailed camera's picture, and the grain's amplitude in luma steps either side of the colour.</summary>
    public const int DetailedWidth = 640;
    public const int DetailedHeight = 360;
    private const int GrainAmplitude = 24;

    /// <summary>The camera's file name in the media directory (the detailed camera has its own).</summary>
    public static string VideoFileName(FakeMediaSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return $"{spec.Name.ToLowerInvariant()}{(spec.Detailed ? "-detailed" : string.Empty)}.y4m";
    }

    public static void WriteY4m(string path, FakeMediaSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Detailed)
        {
            WriteDetailedY4m(path, spec);
            return;
        }

        const int chromaWidth = Width / 2, chromaHeight = Height / 2;
        var y = new byte[Width * Height];
        var u = new byte[chromaWidth * chromaHeight];
        var v = new byte[chromaWidth * chromaHeight];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        file.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F{Fps}:1 Ip A1:1 C420jpeg\n"));
        var frameTag = Encoding.ASCII.GetBytes("FRAME\n");
        for (var frame = 0; frame < Fps * VideoSeconds; frame++)
        {
            Array.Fill(y, spec.Y);
            Array.Fill(u, spec.U);
            Array.Fill(v, spec.V);
            var left = SquareLeft(frame);
            for (var row = SquareTop; row < SquareTop + SquareSize; row++)
            {
                Array.Fill(y, (byte)235, (row * Width) + left, SquareSize);
            }

            for (var row = SquareTop / 2; row < (SquareTop + SquareSize) / 2; row++)
            {
                Array.Fill(u, (byte)128, (row * chromaWidth) + (left / 2), SquareSize / 2);
                Array.Fill(v, (byte)128, (row * chromaWidth) + (left / 2), SquareSize / 2);
            }

            file.Write(frameTag);
            file.Write(y);
            file.Write(u);
            file.Write(v);
        }
    }

    /// <summary>
    /// The colour under grain that drifts two pixels a frame: every frame differs and costs an encoder about the same,
    /// like a real camera's sensor noise and texture.
    /// </summary>
    private static void WriteDetailedY4m(string path, FakeMediaSpec spec)
    {
        const int width = DetailedWidth, height = DetailedHeight, chromaWidth = width / 2, chromaHeight = height / 2;
        const int frames = Fps * 2, drift = 2;
        const int fieldWidth = width + (frames * drift);
        var field = new sbyte[fieldWidth * height];
        var seed = 0x9E3779B9u ^ (uint)spec.ToneHz; // fixed per participant: the same file every run
        for (var i = 0; i < field.Length; i++)
        {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            field[i] = (sbyte)((int)(seed % ((2 * GrainAmplitude) + 1)) - GrainAmplitude);
        }

        var y = new byte[width * height];
        var u = new byte[chromaWidth * chromaHeight];
        var v = new byte[chromaWidth * chromaHeight];
        Array.Fill(u, spec.U);
        Array.Fill(v, spec.V);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        file.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{width} H{height} F{Fps}:1 Ip A1:1 C420jpeg\n"));
        var frameTag = Encoding.ASCII.GetBytes("FRAME\n");
        for (var frame = 0; frame < frames; frame++)
        {
            for (var row = 0; row < height; row++)
            {
                var from = (row * fieldWidth) + (frame * drift);
                for (var col = 0; col < width; col++)
                {
                    y[(row * width) + col] = (byte)Math.Clamp(spec.Y + field[from + col], 16, 235);
                }
            }

            file.Write(frameTag);
            file.Write(y);
            file.Write(u);
            file.Write(v);
        }
    }

    /// <summary>A mono 16-bit PCM wav of a sine tone.</summary>
    public static void WriteWav(string path, int toneHz)
    {
        const int samples = AudioSampleRate * AudioSeconds;
        const int dataBytes = samples * 2;
        var bytes = new byte[44 + dataBytes];
        var span = bytes.AsSpan();
        Encoding.ASCII.GetBytes("RIFF").CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataBytes);
        Encoding.ASCII.GetBytes("WAVE").CopyTo(span[8..]);
        Encoding.ASCII.GetBytes("fmt ").CopyTo(span[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1); // mono
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], AudioSampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], AudioSampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        Encoding.ASCII.GetBytes("data").CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataBytes);
        for (var i = 0; i < samples; i++)
        {
            var value = AudioAmplitude * Math.Sin(2 * Math.PI * toneHz * i / AudioSampleRate);
            BinaryPrimitives.WriteInt16LittleEndian(span[(44 + (2 * i))..], (short)Math.Round(value * short.MaxValue));
        }

        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Names an RGB pixel the way a person would: the participant colours, the square's white, or other.</summary>
    public static string ColourName(int r, int g, int b) =>
        (r, g, b) switch
        {
            _ when r > 180 && g > 180 && b > 180 => "white",
            _ when r > 150 && g < 100 && b < 100 => "red",
            _ when g > 150 && r < 100 && b < 100 => "green",
            _ when b > 150 && r < 100 && g < 100 => "blue",
            _ => "other",
        };
}
