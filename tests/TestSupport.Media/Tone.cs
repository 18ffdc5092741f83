using System.Buffers.Binary;

namespace PgVideoChat.TestSupport.Media;

/// <summary>
/// Sine tones as PCM s16 and measures of s16 samples: the amplitude at one frequency (Goertzel), the dominant
/// frequency, RMS. Amplitudes are in sample units: a sine of amplitude A measures about A at its own frequency over a
/// window of whole or many periods, and near 0 elsewhere.
/// </summary>
public static class Tone
{
    /// <summary>
    /// <paramref name="count"/> samples of a sine from sample <paramref name="start"/> on (so that consecutive frames
    /// made with consecutive starts join without a click), interleaved on <paramref name="channels"/> channels.
    /// </summary>
    public static short[] Sine(double frequency, int sampleRate, int count, double amplitude, long start = 0, int channels = 1)
    {
        var samples = new short[count * channels];
        for (var i = 0; i < count; i++)
        {
            var value = (short)Math.Round(amplitude * Math.Sin(2 * Math.PI * frequency * (start + i) / sampleRate));
            for (var channel = 0; channel < channels; channel++)
            {
                samples[(i * channels) + channel] = value;
            }
        }

        return samples;
    }

    /// <summary>The samples as PCM s16le bytes.</summary>
    public static byte[] Pcm(ReadOnlySpan<short> samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * i), samples[i]);
        }

        return bytes;
    }

    /// <summary>PCM s16le bytes as samples.</summary>
    public static short[] Samples(ReadOnlySpan<byte> pcm)
    {
        var samples = new short[pcm.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(pcm[(2 * i)..]);
        }

        return samples;
    }

    /// <summary>The amplitude of <paramref name="frequency"/> in <paramref name="samples"/> (Goertzel; any frequency, not only bins).</summary>
    public static double Goertzel(ReadOnlySpan<short> samples, double frequency, int sampleRate)
    {
        if (samples.IsEmpty)
        {
            return 0;
        }

        var coefficient = 2 * Math.Cos(2 * Math.PI * frequency / sampleRate);
        double previous = 0, beforePrevious = 0;
        foreach (var sample in samples)
        {
            var current = sample + (coefficient * previous) - beforePrevious;
            beforePrevious = previous;
            previous = current;
        }

        var power = (previous * previous) + (beforePrevious * beforePrevious) - (coefficient * previous * beforePrevious);
        return 2 * Math.Sqrt(Math.Max(power, 0)) / samples.Length;
    }

    /// <summary>The frequency with the largest <see cref="Goertzel"/> amplitude, searched in <paramref name="step"/> Hz steps.</summary>
    public static double DominantFrequency(ReadOnlySpan<short> samples, int sampleRate, double from = 50, double to = 4000, double step = 5)
    {
        double best = from, bestAmplitude = -1;
        for (var frequency = from; frequency <= to; frequency += step)
        {
            var amplitude = Goertzel(samples, frequency, sampleRate);
            if (amplitude > bestAmplitude)
            {
                (best, bestAmplitude) = (frequency, amplitude);
            }
        }

        return best;
    }

    public static double Rms(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
        {
            return 0;
        }

        double sum = 0;
        foreach (var sample in samples)
        {
            sum += (double)sample * sample;
        }

        return Math.Sqrt(sum / samples.Length);
    }
}
