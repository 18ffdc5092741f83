using Microsoft.Extensions.Time.Testing;
using PgVideoChat.Relay.Limits;

namespace PgVideoChat.Relay.UnitTests.Limits;

public sealed class ControlFloodGuardTests
{
    [Fact]
    public void Refusals_beyond_the_limit_within_a_second_are_flooding_and_the_count_restarts_each_second()
    {
        var time = new FakeTimeProvider();
        var guard = new ControlFloodGuard(time, floodRefusals: 50);

        Assert.All(Enumerable.Range(0, 50), _ => Assert.False(guard.Refused()));
        Assert.True(guard.Refused());
        Assert.Equal(51, guard.RefusedInWindow);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(guard.Refused());
        Assert.Equal(1, guard.RefusedInWindow);
    }
}
