using Microsoft.Extensions.Time.Testing;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Limits;

namespace PgVideoChat.Relay.UnitTests.Limits;

public sealed class MediaRateLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Theory]
    [InlineData(MediaKind.Video, ProtocolLimits.MaxVideoFps)]
    [InlineData(MediaKind.Audio, ProtocolLimits.MaxAudioFps)]
    public void The_limit_holds_a_burst_of_one_and_a_half_seconds_then_the_rate(MediaKind kind, int perSecond)
    {
        var limiter = new MediaRateLimiter(_time);

        Assert.Equal(perSecond * 3 / 2, Allowed(limiter, kind, perSecond * 2));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(perSecond, Allowed(limiter, kind, perSecond * 2));
    }

    [Fact]
    public void A_sender_at_fifteen_frames_a_second_is_never_refused()
    {
        var limiter = new MediaRateLimiter(_time);
        for (var frame = 0; frame < 15 * 60; frame++)
        {
            Assert.Equal(RateVerdict.Allowed, limiter.Check(MediaKind.Video));
            _time.Advance(TimeSpan.FromMilliseconds(1000.0 / 15));
        }
    }

    [Fact]
    public void More_than_twice_the_rate_refused_within_a_second_is_flooding()
    {
        var limiter = new MediaRateLimiter(_time);
        var verdicts = Enumerable.Range(0, 45 + 60 + 1).Select(_ => limiter.Check(MediaKind.Video)).ToList();

        Assert.Equal(45, verdicts.Count(v => v == RateVerdict.Allowed));
        Assert.Equal(60, verdicts.Count(v => v == RateVerdict.Dropped));
        Assert.Equal(RateVerdict.Flooding, verdicts[^1]);
    }

    [Fact]
    public void The_kinds_have_separate_budgets()
    {
        var limiter = new MediaRateLimiter(_time);
        Allowed(limiter, MediaKind.Video, 100);

        Assert.Equal(RateVerdict.Allowed, limiter.Check(MediaKind.Audio));
    }

    [Fact]
    public void One_error_per_code_is_reported_a_second()
    {
        var limiter = new MediaRateLimiter(_time);

        Assert.True(limiter.ShouldReport(ErrorCodes.RateLimited));
        Assert.False(limiter.ShouldReport(ErrorCodes.RateLimited));
        Assert.True(limiter.ShouldReport(ErrorCodes.NotParticipant));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.ShouldReport(ErrorCodes.RateLimited));
    }

    private static int Allowed(MediaRateLimiter limiter, MediaKind kind, int frames)
        => Enumerable.Range(0, frames).Count(_ => limiter.Check(kind) == RateVerdict.Allowed);
}
