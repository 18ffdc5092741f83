namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// Where one audio frame's samples go on the export's timeline, in output samples (mono, at the export's rate).
/// The frame yields <paramref name="Count"/> samples from <paramref name="Start"/> on; the first
/// <paramref name="Skip"/> of them are dropped (they overlap what the sender already placed).
/// <paramref name="SegmentOutput"/> and <paramref name="SegmentInput"/> are the frame's first output and input sample
/// within its run of consecutive frames, which a resampler needs to interpolate across frame boundaries.
/// </summary>
internal readonly record struct AudioPlacement(long Start, int Count, int Skip, long SegmentOutput, long SegmentInput)
{
    /// <summary>The first sample the frame really adds to the mix.</summary>
    public long KeptStart => Start + Skip;

    /// <summary>Just past the frame's last sample.</summary>
    public long End => Start + Count;
}
