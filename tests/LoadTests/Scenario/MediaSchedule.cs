namespace PgVideoChat.LoadTests.Scenario;

/// <summary>
/// One kind of one participant's media on an absolute schedule: frame <c>i</c> is due at origin + phase + i × period,
/// from a random phase so that participants do not send in step. A sender that fell more than two frames behind
/// skips them (like a camera) rather than bursting.
/// </summary>
internal sealed class MediaSchedule
{
    /// <summary>The period of a kind that is not sent: nothing is ever due.</summary>
    public const long Never = long.MaxValue;

    private readonly long _origin;
    private readonly long _period;
    private readonly long _phase;

    public MediaSchedule(long origin, long period, uint firstSequence)
    {
        _origin = origin;
        _period = period;
        _phase = period == Never ? 0 : Random.Shared.NextInt64(period);
        Sequence = firstSequence;
    }

    /// <summary>How many frames of the schedule have been sent or skipped.</summary>
    public long Index { get; private set; }

    /// <summary>The sequence number of the next frame.</summary>
    public uint Sequence { get; private set; }

    /// <summary>When the next frame is due, in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    public long Next => _period == Never ? Never : _origin + _phase + (Index * _period);

    /// <summary>Skips the frames missed when more than two are; returns how many it skipped.</summary>
    public long SkipMissed(long now)
    {
        var behind = (now - Next) / _period;
        if (behind < 2)
        {
            return 0;
        }

        Index += behind;
        Sequence += (uint)behind;
        return behind;
    }

    public void Advance()
    {
        Sequence++;
        Index++;
    }
}
