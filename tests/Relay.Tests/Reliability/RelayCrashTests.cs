using PgVideoChat.Protocol;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>The relay killed with SIGKILL mid-call, then started again.</summary>
public sealed class RelayCrashTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    [Fact]
    public async Task A_killed_relay_resumes_from_its_slot_losing_no_chat_and_forwarding_no_stale_media()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var acked = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            acked.Add(await alice.ChatAsync(callId, $"before the crash {i}", ct, clientMsgId: $"crash-{i}"));
        }

        // Frames in flight when the process dies: committed, then stale by the time a relay reads them.
        for (uint i = 0; i < 10; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, 500 + i), TestMedia.Jpeg(20_000, 500 + (int)i), ct);
        }

        var pid = fixture.RelayProcessId;
        await fixture.App.KillResourceAsync("relay", ct);
        Assert.False(ProcessProbe.IsAlive(pid));
        await alice.WaitForCloseAsync(ct);
        await bob.WaitForCloseAsync(ct);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
        await Task.Delay(TimeSpan.FromSeconds(2.5), ct);

        await fixture.App.StartResourceAsync("relay", ct);
        await fixture.WaitForRelayHealthyAsync(ct);
        await using var alice2 = await RelayTestClient.ConnectAsync(fixture.RelayUri, alice.Session, ct);
        await using var bob2 = await RelayTestClient.ConnectAsync(fixture.RelayUri, bob.Session, ct);

        // No acknowledged chat is lost; each arrives once (hello or event, never both).
        var seen = bob2.Hello.GetProperty("chat").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()).ToList();
        await bob2.AckedAsync(new System.Text.Json.Nodes.JsonObject { ["type"] = "ping" }, ct);
        await Task.Delay(1500, ct); // let any replay from the slot arrive
        seen.AddRange(bob2.MessagesOfType("chat").Select(m => m.GetProperty("id").GetInt64()));
        foreach (var id in acked)
        {
            Assert.True(seen.Count(s => s == id) == 1, $"chat {id} seen {seen.Count(s => s == id)} times: {string.Join(",", seen)}");
        }

        // The call continues; the frames from before the crash are not replayed late.
        Assert.Equal("active", bob2.Hello.GetProperty("calls").EnumerateArray().Single(c => c.GetProperty("callId").GetInt64() == callId).GetProperty("state").GetString());
        await alice2.SendFrameAsync(TestMedia.Video(callId, 9000), TestMedia.Jpeg(20_000, 9000), ct);
        await bob2.WaitForFramesAsync(1, f => f.Header.Sequence == 9000, ct);
        Assert.DoesNotContain(bob2.Frames, f => f.Header.Sequence is >= 500 and < 510);
        Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "reason=\"stale\"", ct) >= 0);
    }
}
