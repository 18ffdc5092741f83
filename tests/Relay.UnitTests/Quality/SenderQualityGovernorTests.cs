using PgVideoChat.Protocol;
using PgVideoChat.Relay.Quality;

namespace PgVideoChat.Relay.UnitTests.Quality;

/// <summary>One sender's step: down under pressure at most every 2 s, back up after 5 s of calm, never past the ends.</summary>
public sealed class SenderQualityGovernorTests
{
    private static readonly QualityOptions Options = new();

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void Pressure_steps_down_one_step_at_a_time_at_most_every_two_seconds_to_the_last_step()
    {
        var governor = new SenderQualityGovernor(Options);
        var levels = Enumerable.Range(0, 10).Select(t => governor.Observe(S(t), droppedFrames: 10)).ToList();

        Assert.Equal([1, null, 2, null, 3, null, null, null, null, null], levels);
        Assert.Equal(MediaQuality.MaxLevel, governor.Level);
        Assert.Equal(QualityReasons.FramesDropped, governor.Reason);
    }

    [Fact]
    public void A_few_drops_below_the_bound_are_not_pressure()
    {
        var governor = new SenderQualityGovernor(Options);
        Assert.Null(governor.Observe(S(0), Options.DroppedFramesToStepDown - 1));
        Assert.Equal(0, governor.Level);
    }

    [Fact]
    public void Calm_steps_back_up_after_five_seconds_since_the_last_pressure_and_the_last_change()
    {
        var governor = new SenderQualityGovernor(Options);
        governor.Observe(S(0), 10);
        governor.Observe(S(2), 10); // level 2, last pressure and change at 2 s
        var levels = Enumerable.Range(3, 12).Select(t => governor.Observe(S(t), 0)).ToList(); // 3 … 14 s

        // Up at 7 s (5 s after 2 s), again at 12 s (5 s after that change), then at 0 it stays.
        Assert.Equal([null, null, null, null, 1, null, null, null, null, 0, null, null], levels);
        Assert.Equal(QualityReasons.Calm, governor.Reason);
    }

    [Fact]
    public void Pressure_that_comes_back_in_the_calm_restarts_the_wait_so_it_does_not_oscillate()
    {
        var governor = new SenderQualityGovernor(Options);
        governor.Observe(S(0), 10); // 1
        Assert.Null(governor.Observe(S(4), 0));
        Assert.Equal(2, governor.Observe(S(4.5), 10)); // pressure again (and a step down: 4.5 s since the change)…
        Assert.Null(governor.Observe(S(9), 0)); // …so 5 s of calm count from 4.5 s
        Assert.Equal(1, governor.Observe(S(9.5), 0));
    }

    [Fact]
    public void A_governor_at_step_zero_is_idle_once_calm()
    {
        var governor = new SenderQualityGovernor(Options);
        governor.Observe(S(0), 1);
        Assert.True(governor.IdleSince(S(0))); // never under pressure
        governor.Observe(S(1), 10);
        Assert.False(governor.IdleSince(S(3)));
        Assert.Equal(0, governor.Observe(S(6), 0));
        Assert.True(governor.IdleSince(S(6)));
    }

    [Fact]
    public void The_ladder_lowers_quality_then_resolution_then_frame_rate_keeping_earlier_caps()
    {
        Assert.Equal(new MediaQualityCaps(0, null, null, null, null), MediaQuality.Caps(0));
        Assert.Equal(new MediaQualityCaps(1, 0.5, null, null, null), MediaQuality.Caps(1));
        Assert.Equal(new MediaQualityCaps(2, 0.5, 320, 180, null), MediaQuality.Caps(2));
        Assert.Equal(new MediaQualityCaps(3, 0.5, 320, 180, 8), MediaQuality.Caps(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MediaQuality.Caps(4));
    }
}
