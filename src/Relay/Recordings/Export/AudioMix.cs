using System.Buffers.Binary;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// The mono mix of every sender's audio for the chunks not yet written. A sender's samples follow each other from
/// where its previous frame ended; when that drifts more than 100 ms from where the frame was received (a pause, a
/// burst after a stall) the sender is re-anchored to the frame's time, so the mix stays in step with the video.
/// Other sample rates than the export's are mapped to it by nearest sample; stereo is averaged.
/// </summary>
internal sealed class AudioMix(int sampleRate, int samplesPerChunk)
{
    private readonly List<int> _pending = [];
    private readonly Dictionary<long, long> _next = [];
    private readonly long _drift = sampleRate / 10;
    private long _base;

    public void Add(RecordedFrame frame)
    {
        var channels = Math.Max(1, frame.Info.A);
        var rate = frame.Info.B > 0 ? frame.Info.B : sampleRate;
        var span = frame.Payload.Span;
        var samples = span.Length / (2 * channels);
        var at = (long)(frame.Info.TimeMicros * (double)sampleRate / 1e6);
        if (!_next.TryGetValue(frame.Info.SenderId, out var position) || Math.Abs(at - position) > _drift)
        {
            position = at;
        }

        var outSamples = (long)(samples * (double)sampleRate / rate);
        for (long i = 0; i < outSamples; i++)
        {
            var target = position + i - _base;
            if (target < 0)
            {
                continue;
            }

            var source = (int)(i * rate / sampleRate) * channels;
            var value = 0;
            for (var c = 0; c < channels; c++)
            {
                value += BinaryPrimitives.ReadInt16LittleEndian(span[((source + c) * 2)..]);
            }

            while (_pending.Count <= target)
            {
                _pending.Add(0);
            }

            _pending[(int)target] += value / channels;
        }

        _next[frame.Info.SenderId] = position + outSamples;
    }

    /// <summary>The mixed samples of chunk <paramref name="chunk"/> (the next one in order), as PCM16 little-endian.</summary>
    public ReadOnlyMemory<byte> Take(long chunk, int samples)
    {
        if (chunk * samplesPerChunk != _base)
        {
            throw new InvalidOperationException($"Audio chunk {chunk} taken out of order.");
        }

        var bytes = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var value = i < _pending.Count ? Math.Clamp(_pending[i], short.MinValue, short.MaxValue) : 0;
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), (short)value);
        }

        _pending.RemoveRange(0, Math.Min(samples, _pending.Count));
        _base += samples;
        return bytes;
    }
}
