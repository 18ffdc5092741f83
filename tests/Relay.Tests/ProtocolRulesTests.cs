using System.Net.WebSockets;
using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.Relay.Tests;

/// <summary>Rules of docs/protocol.md that an outside implementer relies on, each against the real relay.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class ProtocolRulesTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task A_lone_surrogate_in_any_string_is_invalid_message_and_the_connection_stays_open()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        string[] messages =
        [
            $$"""{"rid":"s1","type":"chat.send","to":{{bob.UserId}},"text":"a\ud800b"}""",
            $$"""{"rid":"s2","type":"chat.send","to":{{bob.UserId}},"text":"hi","clientMsgId":"\udfff"}""",
            $$"""{"rid":"s3","type":"chat\ud800.send","to":{{bob.UserId}},"text":"hi"}""",
            """{"rid":"\ud800","type":"ping"}""",
        ];
        foreach (var message in messages)
        {
            await alice.SendTextAsync(message, ct);
        }

        await alice.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        var errors = alice.MessagesOfType("error").ToList();
        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.Equal(ErrorCodes.InvalidMessage, e.GetProperty("code").GetString()));
        Assert.Equal(["s1", "s2", "s3", null], errors.Select(e => e.GetProperty("rid").GetString()));
        Assert.Null(alice.CloseStatus);
        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE from_user = $1", alice.UserId));
    }

    [Theory]
    [InlineData("video")]
    [InlineData("audio")]
    public async Task A_frame_over_its_size_limit_closes_4413_for_either_kind(string kind)
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        if (kind == "video")
        {
            await alice.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(ProtocolLimits.MaxVideoFrameBytes + 1, 1), ct);
        }
        else
        {
            await alice.SendFrameAsync(TestMedia.Audio(callId, 1), new byte[ProtocolLimits.MaxAudioFrameBytes + 2], ct);
        }

        var (status, reason) = await alice.WaitForCloseAsync(ct);
        Assert.True((int?)status == CloseCodes.TooLarge, $"{status} '{reason}'");
    }

    [Fact]
    public async Task Reserved_header_fields_and_a_longer_header_are_accepted_and_forwarded_as_version_1()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        var payload = TestMedia.Jpeg(3_000, 5);
        var frame = new byte[48 + payload.Length];
        new MediaFrameHeader(MediaKind.Video, 7, callId, TestMedia.NowMicros, 320, 240, 0xDEAD, 0).Write(frame);
        frame[3] = 48; // eight header bytes this relay does not know
        payload.CopyTo(frame, 48);
        await alice.SendAsync(frame, WebSocketMessageType.Binary, ct);

        var received = (await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 7, ct))[0];
        Assert.Equal(payload, received.Payload);
        Assert.Equal((ushort)320, received.Header.Width);
        Assert.Equal(0u, received.Header.C);
        Assert.Equal(alice.UserId, received.Header.SenderId);
    }

    [Fact]
    public async Task Chat_history_pages_back_past_the_hundred_messages_of_hello()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        // 130 call messages and 3 direct ones, written as any relay writes them (the INSERT is the publish).
        await fixture.ExecuteAsync("""
            INSERT INTO chat_messages (call_id, from_user, from_name, body)
            SELECT $1, $2, 'Alice', 'call ' || i FROM generate_series(1, 130) i
            """, callId, alice.UserId);
        await fixture.ExecuteAsync("""
            INSERT INTO chat_messages (to_user, from_user, from_name, body)
            VALUES ($1, $2, 'Alice', 'dm 1'), ($2, $1, 'Bob', 'dm 2'), ($1, $2, 'Alice', 'dm 3')
            """, bob.UserId, alice.UserId);

        var newest = Messages(await bob.AckedAsync(new JsonObject { ["type"] = "chat.history", ["callId"] = callId, ["limit"] = 100 }, ct));
        Assert.Equal(Enumerable.Range(31, 100).Select(i => $"call {i}"), newest.Select(m => m.Text));
        var older = Messages(await bob.AckedAsync(new JsonObject { ["type"] = "chat.history", ["callId"] = callId, ["before"] = newest[0].Id }, ct));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"call {i}"), older.Select(m => m.Text));
        var direct = Messages(await bob.AckedAsync(new JsonObject { ["type"] = "chat.history", ["with"] = alice.UserId, ["limit"] = 2 }, ct));
        Assert.Equal(["dm 2", "dm 3"], direct.Select(m => m.Text));

        // Somebody who never took part reads nothing.
        await using var eve = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Eve", ct);
        var refused = await eve.RequestAsync(new JsonObject { ["type"] = "chat.history", ["callId"] = callId }, ct);
        Assert.Equal(ErrorCodes.NotParticipant, refused.GetProperty("code").GetString());
        var none = Messages(await eve.AckedAsync(new JsonObject { ["type"] = "chat.history", ["with"] = alice.UserId }, ct));
        Assert.Empty(none);

        static List<ChatEntry> Messages(System.Text.Json.JsonElement ack)
            => [.. ack.GetProperty("messages").EnumerateArray().Select(m => System.Text.Json.JsonSerializer.Deserialize(m, ProtocolJsonContext.Default.ChatEntry)!)];
    }

    [Fact]
    public async Task Chat_into_an_ended_call_is_invalid_state()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        await alice.HangupAsync(callId, ct);
        await bob.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);

        foreach (var sender in new[] { alice, bob })
        {
            var reply = await sender.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = "too late" }, ct);
            Assert.Equal(ErrorCodes.InvalidState, reply.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task An_active_call_ends_when_its_participants_stay_offline()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
        await WaitUntilAsync(async () => await fixture.ScalarAsync<long>("SELECT count(*) FROM presence WHERE user_id = ANY($1) AND NOT online", new[] { alice.UserId, bob.UserId }) == 2, ct);

        // Offline for less than Relay:AbandonedParticipantAfter (60 s): the call waits for them to come back.
        await Task.Delay(3000, ct);
        Assert.Equal("active", await fixture.ScalarAsync<string>("SELECT state FROM calls WHERE id = $1", callId));

        // As if the minute had passed: the relays' sweep (every 2 s) takes both out and the call ends.
        await fixture.ExecuteAsync("UPDATE presence SET updated_at = now() - interval '61 seconds' WHERE user_id = ANY($1)", new[] { alice.UserId, bob.UserId });
        await WaitUntilAsync(async () => await fixture.ScalarAsync<string>("SELECT state FROM calls WHERE id = $1", callId) == "ended", ct);
        // The first one out ends a call of two, as a hang-up would; the other is left as a hang-up leaves them.
        Assert.Equal(1L, await fixture.ScalarAsync<long>("SELECT count(*) FROM call_participants WHERE call_id = $1 AND state = 'left'", callId));
    }

    [Fact]
    public async Task The_one_left_waiting_sees_the_call_end_when_the_other_side_stays_offline()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, TimeSpan.FromMinutes(1), "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);
        await bob.DisposeAsync();
        await alice.WaitForAsync(m => RelayTestClient.Type(m) == "presence" && m.GetProperty("userId").GetInt64() == bob.UserId && !m.GetProperty("online").GetBoolean(), ct);
        await fixture.ExecuteAsync("UPDATE presence SET updated_at = now() - interval '61 seconds' WHERE user_id = $1", bob.UserId);

        var ended = await alice.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);
        var bobState = ended.GetProperty("participants").EnumerateArray().Single(p => p.GetProperty("userId").GetInt64() == bob.UserId).GetProperty("state").GetString();
        Assert.Equal("left", bobState);
    }

    [Fact]
    public async Task Connections_per_user_and_connects_per_user_are_limited_with_4429()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var ct = cts.Token;

        // A loop of connects: the bucket's 10 pass, the next is refused and told when to retry.
        var looper = await RelayTestClient.SignInAsync(fixture.RelayUri, "Looper", ct);
        var outcomes = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, looper.Token), ct);
            var result = await socket.ReceiveAsync(new byte[64 * 1024], ct);
            outcomes.Add(result.MessageType == WebSocketMessageType.Close ? (int)result.CloseStatus! : 0);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                Assert.Contains("too many connects; retry in", socket.CloseStatusDescription, StringComparison.Ordinal);
            }
            else
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
            }
        }

        Assert.Equal(10, outcomes.Count(o => o == 0));
        Assert.All(outcomes.Skip(10), o => Assert.Equal(CloseCodes.Flooding, o));

        // Ten open at once are allowed; the eleventh is refused while they stay open.
        var tabs = await RelayTestClient.SignInAsync(fixture.RelayUri, "Tabs", ct);
        var open = new List<RelayTestClient>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                open.Add(await RelayTestClient.ConnectAsync(fixture.RelayUri, tabs, ct));
            }

            await Task.Delay(2100, ct); // one more connect token
            using var eleventh = new ClientWebSocket();
            await eleventh.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, tabs.Token), ct);
            var refused = await eleventh.ReceiveAsync(new byte[64 * 1024], ct);
            Assert.Equal(WebSocketMessageType.Close, refused.MessageType);
            Assert.Equal(CloseCodes.Flooding, (int?)refused.CloseStatus);
            Assert.Contains("too many connections: at most 10", eleventh.CloseStatusDescription, StringComparison.Ordinal);
            Assert.All(open, c => Assert.Null(c.CloseStatus));
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 20 s");
            await Task.Delay(200, ct);
        }
    }
}
