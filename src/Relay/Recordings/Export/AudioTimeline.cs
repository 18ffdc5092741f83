namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// Places each sender's audio frames on the export's timeline. A sender's samples follow each other from its first
/// frame's time, so that jitter in when the relay received them does not cut the sound up. Where a frame's time is
/// more than 100 ms past where the sender's samples have reached, the sender paused: the frame starts at its own time
/// and the gap stays silent. Where it is more than 100 ms before, the sender sent more than real time (a backlog after
/// a stall, a fast clock): the frame is put at its own time and what overlaps the samples already placed is dropped,
/// so a sender is never more than 100 ms (plus a frame) off the relay's clock, and the sound stays with the video.
/// The plan and the writer each run one over the same frames and get the same placements.
/// </summary>
internal sealed class AudioTimeline(int outputRate)
{
    private readonly Dictionary<long, SenderCursor> _senders = [];
    private readonly long _tolerance = outputRate / 10;

    public AudioPlacement Place(in RecordedFrameInfo frame)
    {
        var inputRate = frame.B;
        var samples = frame.Length / (2 * frame.A);
        var wall = frame.TimeMicros * outputRate / 1_000_000;
        if (!_senders.TryGetValue(frame.SenderId, out var sender))
        {
            _senders[frame.SenderId] = sender = new SenderCursor { Cursor = wall, Continuous = false, Rate = inputRate };
        }

        long skip = 0;
        if (sender.Rate != inputRate || wall - sender.Cursor > _tolerance)
        {
            // A new rate or a pause: a new run from the frame's own time.
            sender.Cursor = wall;
            sender.Continuous = false;
        }
        else if (sender.Cursor - wall > _tolerance)
        {
            skip = sender.Cursor - wall;
            sender.Continuous = false;
        }

        if (!sender.Continuous)
        {
            sender.RunStart = skip > 0 ? wall : sender.Cursor;
            sender.RunInput = 0;
            sender.Rate = inputRate;
        }

        var first = OutputsOf(sender.RunInput, inputRate, outputRate);
        var last = OutputsOf(sender.RunInput + samples, inputRate, outputRate);
        var placement = new AudioPlacement(sender.RunStart + first, checked((int)(last - first)), (int)Math.Min(skip, last - first), first, sender.RunInput);
        sender.RunInput += samples;
        if (skip == 0 || placement.End > sender.Cursor)
        {
            sender.Cursor = placement.End;
            sender.Continuous = true;
        }
        else
        {
            // Dropped whole: the next frame that fits starts a run where the sender's samples reached.
            sender.Continuous = false;
        }

        return placement;
    }

    /// <summary>The number of output samples that the first <paramref name="inputSamples"/> of a run yield.</summary>
    /// <remarks>
    /// Output sample j sits at input position j·r/R and is interpolated between the input samples on either side of
    /// it, so it can be made once the input sample after it is known; at equal rates this is the identity.
    /// </remarks>
    private static long OutputsOf(long inputSamples, int inputRate, int outputRate)
        => inputSamples <= 0 ? 0 : ((inputSamples - 1) * outputRate / inputRate) + 1;

    private sealed class SenderCursor
    {
        public long Cursor { get; set; }

        public long RunStart { get; set; }

        public long RunInput { get; set; }

        public int Rate { get; set; }

        public bool Continuous { get; set; }
    }
}
