using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Quality;

/// <summary>
/// One sender's step in one call, decided from what this relay sees of its frames once a tick: pressure (its frames
/// dropped from receivers' queues, or dropped as stale because this relay's slot is behind) steps it down one step at
/// a time, at most once per
/// <see cref="QualityOptions.StepDownEvery"/>; a calm of <see cref="QualityOptions.CalmToStepUp"/> since the last
/// pressure and the last change steps it back up one. The two waits differ, so one noisy second does not make it
/// oscillate. Pure: the time is the caller's.
/// </summary>
internal sealed class SenderQualityGovernor(QualityOptions options)
{
    private TimeSpan _lastChange = TimeSpan.MinValue;
    private TimeSpan _lastPressure = TimeSpan.MinValue;

    public int Level { get; private set; }

    /// <summary>Why the last step was taken.</summary>
    public string Reason { get; private set; } = QualityReasons.Calm;

    /// <summary>At step 0 and calm for a while: nothing to say, and nothing to remember.</summary>
    public bool IdleSince(TimeSpan now) => Level == 0 && Since(_lastPressure, now) >= options.CalmToStepUp;

    /// <summary>When the level last changed (the advisor renews a level above 0 from then on).</summary>
    public TimeSpan LastChange => _lastChange;

    /// <summary>One tick's observation: the sender's frames dropped since the last; returns the new level when it changed.</summary>
    public int? Observe(TimeSpan now, int droppedFrames)
    {
        if (droppedFrames >= options.DroppedFramesToStepDown)
        {
            _lastPressure = now;
            if (Level < MediaQuality.MaxLevel && Since(_lastChange, now) >= options.StepDownEvery)
            {
                Level++;
                _lastChange = now;
                Reason = QualityReasons.FramesDropped;
                return Level;
            }

            return null;
        }

        if (Level > 0 && Since(_lastPressure, now) >= options.CalmToStepUp && Since(_lastChange, now) >= options.CalmToStepUp)
        {
            Level--;
            _lastChange = now;
            Reason = QualityReasons.Calm;
            return Level;
        }

        return null;
    }

    private static TimeSpan Since(TimeSpan then, TimeSpan now) => then == TimeSpan.MinValue ? TimeSpan.MaxValue : now - then;
}

/// <summary>The <c>reason</c> of a <c>media.quality</c> message.</summary>
internal static class QualityReasons
{
    /// <summary>Receivers' send queues dropped the sender's frames, or the relay dropped them as stale (its slot behind).</summary>
    public const string FramesDropped = "frames_dropped";

    /// <summary>The pressure is gone: a step back up.</summary>
    public const string Calm = "calm";
}
