using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests;

/// <summary>Several relays on one Postgres: each has its own slot, and a call spans relays.</summary>
public sealed class ScaleOutTests(ThreeRelaysFixture fixture) : IClassFixture<ThreeRelaysFixture>
{
    [Fact]
    public async Task A_group_call_across_three_relays_reaches_everyone_and_survives_losing_one_relay()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        var slots = await fixture.ScalarAsync<string[]>("SELECT array_agg(slot_name::text ORDER BY slot_name) FROM pg_replication_slots WHERE active");
        Assert.Equal(["pgvideochat_relay_0", "pgvideochat_relay_1", "pgvideochat_relay_2"], slots);

        await using var alice = await RelayTestClient.ConnectAsync(fixture.Relay(0), "Alice", ct);
        var bob = await RelayTestClient.ConnectAsync(fixture.Relay(1), "Bob", ct);
        await using var carol = await RelayTestClient.ConnectAsync(fixture.Relay(2), "Carol", ct);
        Assert.Equal("relay-1", bob.Hello.GetProperty("relayId").GetString());
        var callId = await Calls.EstablishAsync(alice, ct, bob, carol);

        await alice.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(20_000, 1), ct);
        await bob.SendFrameAsync(TestMedia.Video(callId, 2), TestMedia.Jpeg(20_000, 2), ct);
        await carol.SendFrameAsync(TestMedia.Video(callId, 3), TestMedia.Jpeg(20_000, 3), ct);
        foreach (var (client, expected) in new[] { (alice, new uint[] { 2, 3 }), (bob, [1, 3]), (carol, [1, 2]) })
        {
            var frames = await client.WaitForFramesAsync(2, _ => true, ct);
            Assert.Equal(expected, frames.Select(f => f.Header.Sequence).Order());
        }

        // Relay 1 dies: Bob reconnects through the front door, which no longer routes to it, and the call goes on.
        await fixture.App.KillResourceAsync("relay-1");
        await bob.WaitForCloseAsync(ct);
        await bob.DisposeAsync();
        var bobAgain = await ConnectThroughFrontDoorAsync(bob.Session, ct);
        await using (bobAgain)
        {
            Assert.NotEqual("relay-1", bobAgain.Hello.GetProperty("relayId").GetString());
            Assert.Contains(bobAgain.Hello.GetProperty("calls").EnumerateArray(), c => c.GetProperty("callId").GetInt64() == callId);
            await alice.SendFrameAsync(TestMedia.Video(callId, 10), TestMedia.Jpeg(20_000, 10), ct);
            await bobAgain.WaitForFramesAsync(1, f => f.Header.Sequence == 10, ct);
            await bobAgain.SendFrameAsync(TestMedia.Video(callId, 20), TestMedia.Jpeg(20_000, 20), ct);
            await carol.WaitForFramesAsync(1, f => f.Header.Sequence == 20, ct);
            var chat = await bobAgain.ChatAsync(callId, "still here", ct);
            await alice.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == chat, ct);
        }

        await fixture.App.StartResourceAsync("relay-1", ct);
    }

    [Fact]
    public async Task A_relay_skips_the_payload_of_frames_none_of_its_clients_receives()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        await using var alice = await RelayTestClient.ConnectAsync(fixture.Relay(0), "Alice", ct);
        await using var bob = await RelayTestClient.ConnectAsync(fixture.Relay(2), "Bob", ct);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        const string Skipped = "pgvideochat_replication_frames_skipped_total";
        const string Forwarded = "pgvideochat_frames_forwarded_total";
        const string Video = "kind=\"video\"";
        var skippedBefore = (Sender: await MetricAsync(0, Skipped), Receiver: await MetricAsync(2, Skipped));
        var forwardedBefore = await MetricAsync(2, Forwarded);

        const int Frames = 20;
        for (uint i = 1; i <= Frames; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, i), TestMedia.Jpeg(20_000, (int)i), ct);
        }

        await bob.WaitForFramesAsync(Frames, _ => true, ct);
        // Alice's relay has no client that receives Alice's frames: it reads them from its slot and skips them.
        await Reliability.ProcessProbe.WaitUntilAsync(async () => await MetricAsync(0, Skipped) - skippedBefore.Sender >= Frames, TimeSpan.FromSeconds(10), "relay-0 to skip Alice's frames", ct);
        Assert.Equal(0, await MetricAsync(2, Skipped) - skippedBefore.Receiver);
        Assert.Equal(Frames, await MetricAsync(2, Forwarded) - forwardedBefore);

        Task<double> MetricAsync(int relay, string name) => Reliability.ProcessProbe.MetricAsync(fixture.Relay(relay), name, Video, ct);
    }

    private async Task<RelayTestClient> ConnectThroughFrontDoorAsync(SignInResponse session, CancellationToken ct)
    {
        // The front door's health checks need a moment to take the dead relay out; a client just retries, as the web client does.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var client = await RelayTestClient.ConnectAsync(fixture.RelayUri, session, ct);
                if (client.Hello.GetProperty("relayId").GetString() != "relay-1")
                {
                    return client;
                }

                await client.DisposeAsync();
            }
            catch (Exception ex) when (attempt < 30 && ex is System.Net.WebSockets.WebSocketException or InvalidOperationException)
            {
            }

            await Task.Delay(500, ct);
        }
    }
}
