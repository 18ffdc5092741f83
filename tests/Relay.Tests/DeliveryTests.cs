using System.Text.Json.Nodes;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests;

/// <summary>
/// What reaches whom, run against each pgoutput protocol version: every delivery below came out of the relay's
/// replication slot, since the relay forwards nothing from memory.
/// </summary>
public abstract class DeliveryTests<TFixture>(TFixture fixture)
    where TFixture : RelayAppFixture
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Video_frames_of_A_reach_B_and_only_B()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob", "Carol");
        var (ct, alice, bob, carol) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        for (uint i = 0; i < 10; i++)
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, 100 + i), TestMedia.Jpeg(30_000, (int)i), ct);
            await Task.Delay(40, ct);
        }

        var received = await bob.WaitForFramesAsync(10, f => f.Header.Kind == MediaKind.Video, ct);
        Assert.All(received, f =>
        {
            Assert.Equal(alice.UserId, f.Header.SenderId);
            Assert.Equal(callId, f.Header.CallId);
            Assert.Equal(640, f.Header.Width);
            Assert.Equal(30_000, f.Payload.Length);
        });
        Assert.Equal(Enumerable.Range(0, 10), received.Select(f => TestMedia.MarkerOf(f.Payload)));
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (uint)i), received.Select(f => f.Header.Sequence));

        // A ping round trip through the same relay after the frames: anything addressed to Carol or Alice is queued by now.
        await carol.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        await alice.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        Assert.Empty(carol.Frames);
        Assert.Empty(alice.Frames);
    }

    [Fact]
    public async Task Video_and_audio_of_B_reach_A()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        for (uint i = 0; i < 5; i++)
        {
            await bob.SendFrameAsync(TestMedia.Video(callId, i), TestMedia.Jpeg(25_000, 1000 + (int)i), ct);
            await bob.SendFrameAsync(TestMedia.Audio(callId, i), TestMedia.Pcm(2000 + (int)i), ct);
            await Task.Delay(40, ct);
        }

        var video = await alice.WaitForFramesAsync(5, f => f.Header.Kind == MediaKind.Video, ct);
        var audio = await alice.WaitForFramesAsync(5, f => f.Header.Kind == MediaKind.Audio, ct);
        Assert.All(video.Concat(audio), f => Assert.Equal(bob.UserId, f.Header.SenderId));
        Assert.Equal(Enumerable.Range(2000, 5), audio.Select(f => BitConverter.ToInt32(f.Payload)));
        Assert.All(audio, f =>
        {
            Assert.Equal(24000u, f.Header.SampleRate);
            Assert.Equal(1, f.Header.Channels);
        });
        Assert.Empty(bob.Frames);
    }

    [Fact]
    public async Task Call_chat_reaches_the_participants_and_direct_messages_only_their_two_users()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob", "Carol");
        var (ct, alice, bob, carol) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        var callChat = await alice.ChatAsync(callId, "it's me, \"Alice\" 👋", ct, clientMsgId: "m-1");
        var retry = await alice.ChatAsync(callId, "it's me, \"Alice\" 👋", ct, clientMsgId: "m-1");
        Assert.Equal(callChat, retry);
        var direct = await bob.AckedAsync(new JsonObject { ["type"] = "chat.send", ["to"] = carol.UserId, ["text"] = "psst" }, ct);
        var directId = direct.GetProperty("id").GetInt64();

        foreach (var participant in new[] { alice, bob })
        {
            var chat = await participant.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == callChat, ct);
            Assert.Equal("it's me, \"Alice\" 👋", chat.GetProperty("text").GetString());
            Assert.Equal(alice.UserId, chat.GetProperty("from").GetInt64());
            Assert.Equal(callId, chat.GetProperty("callId").GetInt64());
        }

        await carol.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == directId, ct);
        await bob.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("id").GetInt64() == directId, ct);
        await alice.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        await carol.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        Assert.DoesNotContain(alice.MessagesOfType("chat"), m => m.GetProperty("id").GetInt64() == directId);
        Assert.DoesNotContain(carol.MessagesOfType("chat"), m => m.GetProperty("id").GetInt64() == callChat);
        Assert.Single(alice.MessagesOfType("chat"), m => m.GetProperty("id").GetInt64() == callChat);
        Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE from_user = $1 AND client_msg_id = 'm-1'", alice.UserId));
    }

    [Fact]
    public async Task Rows_inserted_with_SQL_behind_the_relays_back_are_delivered_too()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        await fixture.ExecuteAsync(
            "INSERT INTO chat_messages (to_user, from_user, from_name, body) VALUES ($1, $2, 'Alice', 'written with psql')", bob.UserId, alice.UserId);
        var jpeg = TestMedia.Jpeg(5_000, 4242);
        await fixture.ExecuteAsync("""
            INSERT INTO video_frames (call_id, sender_id, sequence, capture_us, received_us, width, height, payload)
            VALUES ($1, $2, 7, $3, $3, 320, 240, $4)
            """, callId, alice.UserId, TestMedia.NowMicros, jpeg);

        var chat = await bob.WaitForAsync(m => RelayTestClient.Type(m) == "chat" && m.GetProperty("text").GetString() == "written with psql", ct);
        Assert.Equal(alice.UserId, chat.GetProperty("from").GetInt64());
        var frame = Assert.Single(await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 7, ct));
        Assert.Equal(jpeg, frame.Payload);
        Assert.Equal(320, frame.Header.Width);
    }
}

public sealed class DeliveryTestsPgOutputV1(PgOutputV1Fixture fixture) : DeliveryTests<PgOutputV1Fixture>(fixture), IClassFixture<PgOutputV1Fixture>;

[Collection(AppModelCollections.PgOutputV2)]
public sealed class DeliveryTestsPgOutputV2(PgOutputV2Fixture fixture) : DeliveryTests<PgOutputV2Fixture>(fixture);

public sealed class DeliveryTestsPgOutputV3(PgOutputV3Fixture fixture) : DeliveryTests<PgOutputV3Fixture>(fixture), IClassFixture<PgOutputV3Fixture>;
