using System.Buffers;
using System.Buffers.Binary;

namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// The mono mix of the samples not yet written: a ring of 32-bit sums from the next chunk's first sample on, as long
/// as the plan says the frames read ahead can reach (<see cref="AviExportPlan.MixWindowSamples"/>). Each sender's
/// frame is downmixed (the channels averaged), brought to the export's rate by linear interpolation (across frame
/// boundaries within a run, so a steady 16 kHz sender has no clicks at 48 kHz), and added; a written sample is the sum
/// clamped to 16 bits.
/// </summary>
internal sealed class AudioMixWindow : IDisposable
{
    private readonly int[] _sums;
    private readonly int _capacity;
    private readonly int _outputRate;
    private readonly long _total;
    private readonly Dictionary<long, int> _lastInput = [];
    private long _emitted;

    public AudioMixWindow(int outputRate, int capacity, long totalSamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _outputRate = outputRate;
        _capacity = capacity;
        _total = totalSamples;
        _sums = ArrayPool<int>.Shared.Rent(capacity);
        Array.Clear(_sums, 0, capacity);
    }

    /// <summary>Adds one audio frame (PCM s16le, <paramref name="channels"/> interleaved) where the timeline placed it.</summary>
    public void Add(long senderId, int inputRate, int channels, AudioPlacement placement, ReadOnlySpan<byte> pcm)
    {
        var samples = pcm.Length / (2 * channels);
        var from = placement.KeptStart;
        var end = Math.Min(placement.End, _total);
        if (from < end && (from < _emitted || end > _emitted + _capacity))
        {
            throw new InvalidOperationException(
                $"Audio of sender {senderId} for samples {from}..{end} falls outside the mix window {_emitted}..{_emitted + _capacity}: the plan and the writer disagree.");
        }

        if (inputRate == _outputRate)
        {
            for (var at = from; at < end; at++)
            {
                _sums[Slot(at)] += Mono(pcm, channels, (int)(at - placement.Start));
            }
        }
        else if (from < end)
        {
            var previous = placement.SegmentInput == 0 ? 0 : _lastInput.GetValueOrDefault(senderId);
            long rate = _outputRate;
            for (var at = from; at < end; at++)
            {
                // Output j of the run sits at input position x = j·r/R; k = ceil(x) is the input sample at or after it.
                var position = (placement.SegmentOutput + (at - placement.Start)) * inputRate;
                var k = (position + rate - 1) / rate;
                var index = (int)(k - placement.SegmentInput);
                var after = Mono(pcm, channels, index);
                var before = index == 0 ? previous : Mono(pcm, channels, index - 1);
                _sums[Slot(at)] += (int)(((before * ((k * rate) - position)) + (after * (position - ((k - 1) * rate)))) / rate);
            }
        }

        if (samples > 0)
        {
            _lastInput[senderId] = Mono(pcm, channels, samples - 1);
        }
    }

    /// <summary>Writes the next <paramref name="count"/> mixed samples as PCM s16le and frees their room in the ring.</summary>
    public void Emit(int count, Span<byte> destination)
    {
        for (var i = 0; i < count; i++)
        {
            var slot = Slot(_emitted + i);
            BinaryPrimitives.WriteInt16LittleEndian(destination[(2 * i)..], (short)Math.Clamp(_sums[slot], short.MinValue, short.MaxValue));
            _sums[slot] = 0;
        }

        _emitted += count;
    }

    public void Dispose() => ArrayPool<int>.Shared.Return(_sums);

    private static int Mono(ReadOnlySpan<byte> pcm, int channels, int sample)
    {
        var sum = 0;
        for (var channel = 0; channel < channels; channel++)
        {
            sum += BinaryPrimitives.ReadInt16LittleEndian(pcm[(((sample * channels) + channel) * 2)..]);
        }

        return sum / channels;
    }

    private int Slot(long sample) => (int)(sample % _capacity);
}
