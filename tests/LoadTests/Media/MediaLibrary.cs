using System.Buffers.Binary;

namespace PgVideoChat.LoadTests.Media;

/// <summary>
/// The media every simulated participant sends, made once at start: a handful of real 640×360 baseline JPEGs
/// of webcam-like size (a gradient scene with moving shapes and sensor noise, sizes spread around the target)
/// and a second of 24 kHz mono PCM16 cut into 40 ms frames.
/// </summary>
public sealed class MediaLibrary
{
    public const int VideoWidth = 640;
    public const int VideoHeight = 360;
    public const int AudioSampleRate = 24_000;
    public const int AudioChannels = 1;

    private MediaLibrary(IReadOnlyList<byte[]> videoFrames, IReadOnlyList<byte[]> audioFrames)
    {
        VideoFrames = videoFrames;
        AudioFrames = audioFrames;
    }

    public IReadOnlyList<byte[]> VideoFrames { get; }

    public IReadOnlyList<byte[]> AudioFrames { get; }

    public int MaxVideoBytes => VideoFrames.Max(f => f.Length);

    public double MeanVideoBytes => VideoFrames.Average(f => f.Length);

    public int AudioFrameBytes => AudioFrames[0].Length;

    /// <summary>Builds <paramref name="videoFrameCount"/> JPEGs whose sizes spread ±15 % around <paramref name="targetVideoBytes"/>.</summary>
    public static MediaLibrary Create(int videoFrameCount = 8, int targetVideoBytes = 25_000, TimeSpan? audioFrameDuration = null, int seed = 20_251_124)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(videoFrameCount, 1);
        var video = new byte[videoFrameCount][];
        Parallel.For(0, videoFrameCount, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var spread = videoFrameCount == 1 ? 1.0 : 0.85 + (0.30 * i / (videoFrameCount - 1));
            video[i] = Cached((int)(targetVideoBytes * spread), seed + i, i);
        });

        var frameDuration = audioFrameDuration ?? TimeSpan.FromMilliseconds(40);
        return new MediaLibrary(video, Pcm(frameDuration, seed));
    }

    /// <summary>
    /// Encoding with a noise search costs a few CPU seconds, which a busy 2-core box feels at every start: the JPEGs are
    /// kept in the temp folder, keyed by everything that shapes them, and re-made when missing or not a whole JPEG.
    /// </summary>
    private static byte[] Cached(int targetBytes, int seed, int phase)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pgvideochat-loadtests-media");
        var path = Path.Combine(folder, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"v1-{VideoWidth}x{VideoHeight}-{targetBytes}-{seed}-{phase}.jpg"));
        try
        {
            if (File.Exists(path) && File.ReadAllBytes(path) is { Length: > 4 } cached
                && cached[0] == 0xFF && cached[1] == 0xD8 && cached[^2] == 0xFF && cached[^1] == 0xD9)
            {
                return cached;
            }
        }
        catch (IOException)
        {
        }

        var jpeg = EncodeNear(targetBytes, seed, phase);
        try
        {
            Directory.CreateDirectory(folder);
            var temporary = path + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllBytes(temporary, jpeg);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return jpeg;
    }

    /// <summary>A frame of the scene at <paramref name="phase"/>, with the noise level searched so that the JPEG lands near the target size.</summary>
    private static byte[] EncodeNear(int targetBytes, int seed, int phase)
    {
        double low = 0, high = 48;
        byte[]? best = null;
        for (var attempt = 0; attempt < 9; attempt++)
        {
            var noise = (low + high) / 2;
            var jpeg = JpegEncoder.Encode(Scene(seed, phase, noise), VideoWidth, VideoHeight, quality: 70);
            if (best is null || Math.Abs(jpeg.Length - targetBytes) < Math.Abs(best.Length - targetBytes))
            {
                best = jpeg;
            }

            if (Math.Abs(jpeg.Length - targetBytes) < targetBytes * 0.03)
            {
                break;
            }

            if (jpeg.Length < targetBytes)
            {
                low = noise;
            }
            else
            {
                high = noise;
            }
        }

        return best!;
    }

    private static byte[] Scene(int seed, int phase, double noise)
    {
        var random = new Random(seed);
        var rgb = new byte[VideoWidth * VideoHeight * 3];
        var faceX = 320 + (40 * Math.Sin(phase * 0.7));
        var faceY = 170 + (12 * Math.Cos(phase * 0.9));
        for (var y = 0; y < VideoHeight; y++)
        {
            for (var x = 0; x < VideoWidth; x++)
            {
                // A lit wall, a desk at the bottom, a head and shoulders in the middle.
                double r = 150 + (60 * x / VideoWidth) - (30 * y / VideoHeight);
                double g = 140 + (40 * y / VideoHeight);
                double b = 120 + (50 * (VideoWidth - x) / VideoWidth);
                if (y > 300)
                {
                    (r, g, b) = (110 + (10 * Math.Sin(x * 0.05)), 80, 60);
                }

                var dx = (x - faceX) / 70.0;
                var dy = (y - faceY) / 90.0;
                if ((dx * dx) + (dy * dy) < 1)
                {
                    (r, g, b) = (215 - (40 * dy), 170 - (30 * dy), 140 - (20 * dy));
                    if (Math.Abs(dy + 0.25) < 0.06 && Math.Abs(Math.Abs(dx) - 0.35) < 0.12)
                    {
                        (r, g, b) = (40, 30, 30);
                    }
                }
                else if (y > faceY + 80 && Math.Abs(x - faceX) < 150 - ((y - faceY - 80) * -0.8))
                {
                    (r, g, b) = (40 + (20 * Math.Sin((x + phase) * 0.02)), 60, 120);
                }

                // Sensor noise: roughly Gaussian (sum of three uniforms).
                var n = (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * noise;
                var offset = ((y * VideoWidth) + x) * 3;
                rgb[offset] = Clamp(r + n);
                rgb[offset + 1] = Clamp(g + n);
                rgb[offset + 2] = Clamp(b + n);
            }
        }

        return rgb;
    }

    private static byte Clamp(double value) => (byte)Math.Clamp((int)Math.Round(value), 0, 255);

    /// <summary>One second of a voice-like tone (fundamental, harmonics, a slow envelope and some noise) in frames.</summary>
    private static byte[][] Pcm(TimeSpan frameDuration, int seed)
    {
        var samplesPerFrame = (int)(AudioSampleRate * frameDuration.TotalSeconds);
        var frames = Math.Max(1, (int)Math.Round(1 / frameDuration.TotalSeconds));
        var random = new Random(seed);
        var result = new byte[frames][];
        for (var f = 0; f < frames; f++)
        {
            var frame = new byte[samplesPerFrame * 2 * AudioChannels];
            for (var s = 0; s < samplesPerFrame; s++)
            {
                var t = ((f * samplesPerFrame) + s) / (double)AudioSampleRate;
                var envelope = 0.5 + (0.5 * Math.Sin(2 * Math.PI * 3 * t));
                var value = envelope * ((0.5 * Math.Sin(2 * Math.PI * 180 * t)) + (0.25 * Math.Sin(2 * Math.PI * 360 * t)) + (0.1 * Math.Sin(2 * Math.PI * 540 * t)))
                    + (0.02 * ((random.NextDouble() * 2) - 1));
                BinaryPrimitives.WriteInt16LittleEndian(frame.AsSpan(s * 2), (short)Math.Clamp(value * 12_000, short.MinValue, short.MaxValue));
            }

            result[f] = frame;
        }

        return result;
    }
}
