using System.Text.Json;
using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Tests.Reliability;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests;

/// <summary>A relay restart mid-call, and a client that stops reading.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class ResilienceTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task After_a_relay_restart_the_call_continues_no_chat_is_lost_or_doubled_and_stale_media_is_not_forwarded()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var before = await alice.ChatAsync(callId, "before the restart", ct, clientMsgId: "a-1");

        try
        {
            await fixture.App.StopResourceAsync("relay", ct);
            await alice.DisposeAsync();
            await bob.DisposeAsync();

            // Written while no relay runs: the chat must arrive once; the frames are stale by the time the relay is back.
            await fixture.ExecuteAsync(
                "INSERT INTO chat_messages (call_id, from_user, from_name, body, client_msg_id) VALUES ($1, $2, 'Bob', 'while you were away', 'b-1')",
                callId, bob.UserId);
            for (var i = 0; i < 5; i++)
            {
                await fixture.ExecuteAsync("""
                    INSERT INTO video_frames (call_id, sender_id, sequence, capture_us, received_us, width, height, payload)
                    VALUES ($1, $2, $3, $4, $4, 640, 360, $5)
                    """, callId, bob.UserId, 900L + i, TestMedia.NowMicros, TestMedia.Jpeg(5_000, 900 + i));
            }

            await Task.Delay(TimeSpan.FromSeconds(2.5), ct);
            await fixture.App.StartResourceAsync("relay", ct);
            await fixture.WaitForRelayHealthyAsync(ct);

            await using var alice2 = await RelayTestClient.ConnectAsync(fixture.RelayUri, alice.Session, ct);
            await using var bob2 = await RelayTestClient.ConnectAsync(fixture.RelayUri, bob.Session, ct);
            var call = Assert.Single(alice2.Hello.GetProperty("calls").EnumerateArray(), c => c.GetProperty("callId").GetInt64() == callId);
            Assert.Equal("active", call.GetProperty("state").GetString());

            // The call goes on: fresh frames flow both ways.
            await bob2.SendFrameAsync(TestMedia.Video(callId, 1000), TestMedia.Jpeg(20_000, 1000), ct);
            await alice2.SendFrameAsync(TestMedia.Video(callId, 2000), TestMedia.Jpeg(20_000, 2000), ct);
            await alice2.WaitForFramesAsync(1, f => f.Header.Sequence == 1000, ct);
            await bob2.WaitForFramesAsync(1, f => f.Header.Sequence == 2000, ct);
            var after = await bob2.ChatAsync(callId, "after the restart", ct);
            await alice2.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == after, ct);

            var seen = alice2.Hello.GetProperty("chat").EnumerateArray().Select(m => m.GetProperty("id").GetInt64())
                .Concat(alice2.MessagesOfType("chat").Select(m => m.GetProperty("id").GetInt64()))
                .ToList();
            var away = await fixture.ScalarAsync<long>("SELECT id FROM chat_messages WHERE client_msg_id = 'b-1'");
            foreach (var id in new[] { before, away, after })
            {
                Assert.True(seen.Count(s => s == id) == 1, $"chat {id} seen {seen.Count(s => s == id)} times by Alice: {string.Join(",", seen)}");
            }

            Assert.DoesNotContain(alice2.Frames, f => f.Header.Sequence is >= 900 and < 905);
        }
        finally
        {
            // The other classes of the collection need the relay back, even after a failure here.
            await fixture.EnsureRunningAsync("relay");
        }
    }

    [Fact]
    public async Task A_stalled_consumer_costs_bounded_memory_and_does_not_delay_the_others()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(2), "Alice", "Bob", "Dave");
        var (ct, alice, bob, dave) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob, dave);
        var relayPid = fixture.App.GetProcessId("relay") ?? throw new InvalidOperationException("The relay is not running.");
        var rssBefore = ProcessProbe.RssBytes(relayPid);
        dave.PauseReading();

        // 8 s of 200 KB frames at 25 fps: 40 MB that Dave never reads.
        const int Frames = 200;
        var payload = TestMedia.Jpeg(200_000, 5);
        var started = DateTime.UtcNow;
        for (uint i = 0; i < Frames; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, i), payload, ct);
            var due = started + TimeSpan.FromMilliseconds(40 * (i + 1));
            if (due > DateTime.UtcNow)
            {
                await Task.Delay(due - DateTime.UtcNow, ct);
            }
        }

        var received = await bob.WaitForFramesAsync(Frames * 98 / 100, f => f.Header.SenderId == alice.UserId, ct);
        var latencies = received.Select(f => (f.ReceivedAt - DateTime.UnixEpoch).TotalMilliseconds - f.Header.CaptureTimeMicros / 1000.0).Order().ToList();
        var p95 = latencies[(int)(latencies.Count * 0.95)];
        var rssAfter = ProcessProbe.RssBytes(relayPid);

        Assert.True(p95 < 1000, $"Bob's frames were delayed by the stalled consumer: p95 {p95:F0} ms");
        Assert.True(await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_frames_dropped_total", "queue_full", ct) > 0, "no frame was dropped for the stalled consumer");
        var queued = await ProcessProbe.MetricAsync(fixture.RelayUri, "pgvideochat_fanout_queue_depth", null, ct);
        Assert.True(queued <= 64, $"queued messages: {queued}");
        Assert.True(rssAfter - rssBefore < 120L * 1024 * 1024, $"relay RSS grew {(rssAfter - rssBefore) / 1024 / 1024} MB");
        dave.ResumeReading();
    }
}
