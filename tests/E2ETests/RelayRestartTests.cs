using System.Diagnostics;
using PgVideoChat.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>The relay restarted in the middle of a call: its own app model, so the restart disturbs no other test.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class RelayRestartTests(VideoChatFixture fixture, ITestOutputHelper output)
    : BrowserTest(fixture, output), IClassFixture<VideoChatFixture>
{
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(20);

    [Fact]
    public Task BrowsersReconnectAndVideoAndChatResumeAfterARelayRestart() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var beforeFromAlice = $"Before the restart, from Alice ({tag})";
        var beforeFromBob = $"Before the restart, from Bob ({tag})";
        await SendAsync(Alice, beforeFromAlice);
        await SendAsync(Bob, beforeFromBob);
        foreach (var viewer in new[] { Alice, Bob })
        {
            await VideoCallTests.ExpectChatShownAsync(viewer, beforeFromAlice);
            await VideoCallTests.ExpectChatShownAsync(viewer, beforeFromBob);
        }

        const string reconnects = "() => window.pgvc.client.counters.reconnects";
        var aliceReconnects = await Alice.EvalAsync<int>(reconnects);
        var bobReconnects = await Bob.EvalAsync<int>(reconnects);

        var clock = Stopwatch.StartNew();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            await Fixture.App.RestartResourceAsync("relay", cts.Token);
            await Fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);
        }

        var relayBack = clock.Elapsed;
        Log($"relay restarted and healthy after {relayBack.TotalSeconds:F1} s");

        // Both browsers reconnect by themselves, and video resumes both ways, within the budget from here.
        var deadline = DateTime.UtcNow + RecoveryBudget;
        await Task.WhenAll(
            WaitForReconnectAsync(Alice, aliceReconnects, deadline),
            WaitForReconnectAsync(Bob, bobReconnects, deadline));
        var reconnected = clock.Elapsed;
        Log($"both browsers reconnected {reconnected.TotalSeconds:F1} s after the restart began " +
            $"({(reconnected - relayBack).TotalSeconds:F1} s after the relay was healthy again)");
        await Expect(Alice.ByTestId("connection-status")).ToHaveTextAsync("connected");
        await Expect(Bob.ByTestId("connection-status")).ToHaveTextAsync("connected");
        await Expect(Alice.ByTestId("call-state")).ToHaveTextAsync("active");
        await Expect(Bob.ByTestId("call-state")).ToHaveTextAsync("active");

        var aliceFrom = (await Alice.StatsOfAsync(Bob.UserId)).FramesReceived;
        var bobFrom = (await Bob.StatsOfAsync(Alice.UserId)).FramesReceived;
        await Task.WhenAll(
            Alice.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Bob.UserId, aliceFrom + 15 }, Remaining(deadline), "Bob's video resuming after the restart"),
            Bob.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Alice.UserId, bobFrom + 15 }, Remaining(deadline), "Alice's video resuming after the restart"));
        var videoBack = clock.Elapsed;
        Log($"video resumed both ways {videoBack.TotalSeconds:F1} s after the restart began " +
            $"({(videoBack - relayBack).TotalSeconds:F1} s after the relay was healthy again)");

        // No chat message lost: what was said before is still shown (once), and new messages go through.
        foreach (var viewer in new[] { Alice, Bob })
        {
            await VideoCallTests.ExpectChatShownAsync(viewer, beforeFromAlice);
            await VideoCallTests.ExpectChatShownAsync(viewer, beforeFromBob);
        }

        var afterFromAlice = $"After the restart, from Alice ({tag})";
        var afterFromBob = $"After the restart, from Bob ({tag})";
        await SendAsync(Alice, afterFromAlice);
        await SendAsync(Bob, afterFromBob);
        foreach (var viewer in new[] { Alice, Bob })
        {
            await VideoCallTests.ExpectChatShownAsync(viewer, afterFromAlice);
            await VideoCallTests.ExpectChatShownAsync(viewer, afterFromBob);
        }
    });

    private static async Task SendAsync(Participant sender, string text)
    {
        await sender.ByTestId("chat-input").FillAsync(text);
        await sender.ByTestId("chat-input").PressAsync("Enter");
    }

    private static TimeSpan Remaining(DateTime deadline) =>
        TimeSpan.FromMilliseconds(Math.Max(1_000, (deadline - DateTime.UtcNow).TotalMilliseconds));

    private static Task WaitForReconnectAsync(Participant participant, int reconnectsBefore, DateTime deadline) =>
        participant.WaitForAsync(
            "n => window.pgvc.client.counters.reconnects > n && window.pgvc.connectionState === 'connected'",
            reconnectsBefore,
            Remaining(deadline),
            "reconnecting to the restarted relay");
}
