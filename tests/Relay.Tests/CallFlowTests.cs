using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.Relay.Tests;

/// <summary>Call state, presence and the refusals, each reaching exactly whom it concerns.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed class CallFlowTests(PgOutputV2Fixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Invite_accept_and_hangup_reach_the_participants_and_nobody_else()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob", "Carol");
        var (ct, alice, bob, carol) = (scenario.Token, scenario[0], scenario[1], scenario[2]);

        var callId = await alice.InviteAsync(ct, bob.UserId);
        var ringing = await bob.WaitForAsync(m => Calls.IsCall(m, callId, "ringing"), ct);
        Assert.Equal("direct", ringing.GetProperty("kind").GetString());
        Assert.Equal(alice.UserId, ringing.GetProperty("createdBy").GetInt64());
        var bobEntry = ringing.GetProperty("participants").EnumerateArray().Single(p => p.GetProperty("userId").GetInt64() == bob.UserId);
        Assert.Equal("invited", bobEntry.GetProperty("state").GetString());
        Assert.Equal("Bob", bobEntry.GetProperty("displayName").GetString());
        await alice.WaitForAsync(m => Calls.IsCall(m, callId, "ringing"), ct);

        await bob.AcceptAsync(callId, ct);
        var active = await alice.WaitForAsync(m => Calls.IsCall(m, callId, "active"), ct);
        await bob.WaitForAsync(m => Calls.IsCall(m, callId, "active"), ct);
        Assert.Equal(2, Calls.JoinedCount(active));

        await bob.HangupAsync(callId, ct);
        await alice.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);
        await bob.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);

        // Versions only grow, so a client can drop stale ones.
        var versions = alice.MessagesOfType("call").Where(m => m.GetProperty("callId").GetInt64() == callId).Select(m => m.GetProperty("version").GetInt64()).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Distinct().Count(), versions.Count);

        await carol.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);
        Assert.Empty(carol.MessagesOfType("call"));
        Assert.Equal("ended", await fixture.ScalarAsync<string>("SELECT state FROM calls WHERE id = $1", callId));
    }

    [Fact]
    public async Task Decline_and_cancel_end_a_ringing_call()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);

        var declined = await alice.InviteAsync(ct, bob.UserId);
        await bob.WaitForAsync(m => Calls.IsCall(m, declined, "ringing"), ct);
        await bob.AckedAsync(new JsonObject { ["type"] = "call.decline", ["callId"] = declined }, ct);
        await alice.WaitForAsync(m => Calls.IsCall(m, declined, "declined"), ct);

        var cancelled = await alice.InviteAsync(ct, bob.UserId);
        await bob.WaitForAsync(m => Calls.IsCall(m, cancelled, "ringing"), ct);
        await alice.HangupAsync(cancelled, ct);
        await bob.WaitForAsync(m => Calls.IsCall(m, cancelled, "cancelled"), ct);

        var late = await bob.RequestAsync(new JsonObject { ["type"] = "call.accept", ["callId"] = cancelled }, ct);
        Assert.Equal(ErrorCodes.InvalidState, late.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_group_call_grows_with_call_add_and_media_reaches_every_other_participant()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob", "Carol");
        var (ct, alice, bob, carol) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        await bob.AckedAsync(new JsonObject { ["type"] = "call.add", ["callId"] = callId, ["userId"] = carol.UserId }, ct);
        var invited = await carol.WaitForAsync(m => RelayTestClient.Type(m) == "call" && m.GetProperty("callId").GetInt64() == callId, ct);
        Assert.Equal("group", invited.GetProperty("kind").GetString());
        await carol.AcceptAsync(callId, ct);
        await alice.WaitForAsync(m => Calls.IsCall(m, callId, "active") && Calls.JoinedCount(m) == 3, ct);

        await carol.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(10_000, 77), ct);
        await alice.WaitForFramesAsync(1, f => f.Header.SenderId == carol.UserId, ct);
        await bob.WaitForFramesAsync(1, f => f.Header.SenderId == carol.UserId, ct);

        // One participant leaving a three-person call leaves it active for the other two.
        await carol.HangupAsync(callId, ct);
        var after = await alice.WaitForAsync(m => Calls.IsCall(m, callId, "active") && Calls.JoinedCount(m) == 2
            && m.GetProperty("participants").EnumerateArray().Any(p => p.GetProperty("userId").GetInt64() == carol.UserId && p.GetProperty("state").GetString() == "left"), ct);
        Assert.Equal("active", after.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Presence_reaches_everyone_online_and_the_hello_lists_who_is_there()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var ct = cts.Token;
        await using var alice = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Alice", ct);
        var bob = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Bob", ct);
        await alice.WaitForAsync(m => RelayTestClient.Type(m) == "presence" && m.GetProperty("userId").GetInt64() == bob.UserId && m.GetProperty("online").GetBoolean(), ct);
        Assert.Contains(bob.Hello.GetProperty("online").EnumerateArray(), u => u.GetProperty("userId").GetInt64() == alice.UserId);
        Assert.Equal(bob.UserId, bob.Hello.GetProperty("user").GetProperty("userId").GetInt64());

        await bob.DisposeAsync();
        var offline = await alice.WaitForAsync(m => RelayTestClient.Type(m) == "presence" && m.GetProperty("userId").GetInt64() == bob.UserId && !m.GetProperty("online").GetBoolean(), ct);
        Assert.Equal("Bob", offline.GetProperty("displayName").GetString());
    }

    [Fact]
    public async Task Nobody_can_send_as_someone_else_into_a_call_they_are_not_in_or_after_it_ended()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob", "Mallory");
        var (ct, alice, bob, mallory) = (scenario.Token, scenario[0], scenario[1], scenario[2]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        // Forged sender id in the header.
        var forged = MediaFrameHeader.Video(1, callId, TestMedia.NowMicros, 640, 360, senderId: alice.UserId);
        await mallory.SendFrameAsync(forged, TestMedia.Jpeg(1000, 1), ct);
        var error = await mallory.WaitForAsync(m => RelayTestClient.Type(m) == "error" && m.GetProperty("code").GetString() == ErrorCodes.InvalidMessage, ct);
        Assert.Contains("senderId", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Media and chat into a call Mallory is not in.
        await Task.Delay(1100, ct); // errors are throttled to one per second per code
        await mallory.SendFrameAsync(TestMedia.Video(callId, 2), TestMedia.Jpeg(1000, 2), ct);
        await mallory.WaitForAsync(m => RelayTestClient.Type(m) == "error" && m.GetProperty("code").GetString() == ErrorCodes.NotParticipant, ct);
        var chat = await mallory.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = "let me in" }, ct);
        Assert.Equal(ErrorCodes.NotParticipant, chat.GetProperty("code").GetString());
        var hangup = await mallory.RequestAsync(new JsonObject { ["type"] = "call.hangup", ["callId"] = callId }, ct);
        Assert.Equal(ErrorCodes.NotParticipant, hangup.GetProperty("code").GetString());
        var add = await mallory.RequestAsync(new JsonObject { ["type"] = "call.add", ["callId"] = callId, ["userId"] = mallory.UserId }, ct);
        Assert.Equal(ErrorCodes.NotParticipant, add.GetProperty("code").GetString());

        // After the call ended.
        await alice.HangupAsync(callId, ct);
        await bob.WaitForAsync(m => Calls.IsCall(m, callId, "ended"), ct);
        await bob.SendFrameAsync(TestMedia.Video(callId, 3), TestMedia.Jpeg(1000, 3), ct);
        await bob.WaitForAsync(m => RelayTestClient.Type(m) == "error" && m.GetProperty("code").GetString() is ErrorCodes.NotParticipant or ErrorCodes.InvalidState, ct);
        var lateChat = await alice.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = "too late" }, ct);
        Assert.Equal("error", RelayTestClient.Type(lateChat));

        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM video_frames WHERE call_id = $1", callId));
        Assert.Equal(0L, await fixture.ScalarAsync<long>("SELECT count(*) FROM chat_messages WHERE call_id = $1", callId));
        Assert.Empty(alice.Frames);
        Assert.Empty(bob.Frames);
    }

    [Fact]
    public async Task Malformed_and_oversized_messages_get_their_close_code_and_everyone_else_carries_on()
    {
        await using var scenario = await Scenario.StartAsync(fixture.RelayUri, Timeout, "Alice", "Bob");
        var (ct, alice, bob) = (scenario.Token, scenario[0], scenario[1]);
        var callId = await Calls.EstablishAsync(alice, ct, bob);

        (string Name, Func<RelayTestClient, Task> Send, int Code)[] cases =
        [
            ("not JSON", c => c.SendTextAsync("{nope", ct), CloseCodes.Malformed),
            ("not an object", c => c.SendTextAsync("[1,2]", ct), CloseCodes.Malformed),
            // The WebSocket layer itself checks text frames for UTF-8 and closes with the standard 1007.
            ("invalid UTF-8", c => c.SendAsync(new byte[] { 0x7B, 0x22, 0xC3, 0x28, 0x22, 0x7D }, WebSocketMessageType.Text, ct), 1007),
            ("short header", c => c.SendAsync(new byte[] { 1, 1, 0, 40, 0 }, WebSocketMessageType.Binary, ct), CloseCodes.Malformed),
            ("unknown kind", c => c.SendAsync(Header(kind: 9), WebSocketMessageType.Binary, ct), CloseCodes.Malformed),
            ("not a JPEG", c => c.SendFrameAsync(TestMedia.Video(callId, 1), new byte[100], ct), CloseCodes.Malformed),
            ("odd PCM", c => c.SendFrameAsync(TestMedia.Audio(callId, 1), new byte[101], ct), CloseCodes.Malformed),
            ("text too large", c => c.SendTextAsync("\"" + new string('x', 70_000) + "\"", ct), CloseCodes.TooLarge),
            ("binary too large", c => c.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(300_000, 1), ct), CloseCodes.TooLarge),
        ];

        foreach (var (name, send, code) in cases)
        {
            await using var mallory = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Mallory", ct);
            await send(mallory);
            var (status, description) = await mallory.WaitForCloseAsync(ct);
            Assert.True((int?)status == code, $"{name}: expected close {code}, got {status} '{description}'");
        }

        // Well-formed but wrong requests are errors, and the connection stays.
        await using var clumsy = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Clumsy", ct);
        var unknown = await clumsy.RequestAsync(new JsonObject { ["type"] = "call.teleport" }, ct);
        Assert.Equal(ErrorCodes.UnknownType, unknown.GetProperty("code").GetString());
        var invalid = await clumsy.RequestAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId }, ct);
        Assert.Equal(ErrorCodes.InvalidMessage, invalid.GetProperty("code").GetString());
        var missing = await clumsy.RequestAsync(new JsonObject { ["type"] = "call.accept", ["callId"] = ProtocolLimits.MaxId }, ct);
        Assert.Equal(ErrorCodes.NotFound, missing.GetProperty("code").GetString());
        await clumsy.AckedAsync(new JsonObject { ["type"] = "ping" }, ct);

        // The call went on all along.
        await alice.SendFrameAsync(TestMedia.Video(callId, 50), TestMedia.Jpeg(20_000, 50), ct);
        await bob.WaitForFramesAsync(1, f => f.Header.Sequence == 50, ct);
        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", ct)).StatusCode);

        static byte[] Header(byte kind)
        {
            var bytes = new byte[60];
            MediaFrameHeader.Video(1, 1, 1, 1, 1).Write(bytes);
            bytes[1] = kind;
            return bytes;
        }
    }

    [Fact]
    public async Task A_foreign_origin_gets_403_and_a_bad_token_gets_4401()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var ct = cts.Token;
        var session = await RelayTestClient.SignInAsync(fixture.RelayUri, "Alice", ct);

        using (var foreign = new ClientWebSocket())
        {
            foreign.Options.SetRequestHeader("Origin", "http://evil.example");
            foreign.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAsync<WebSocketException>(() => foreign.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, session.Token), ct));
            Assert.Equal(HttpStatusCode.Forbidden, foreign.HttpStatusCode);
        }

        var tampered = session.Token[..^2] + (session.Token[^2] == 'A' ? "BB" : "AA");
        foreach (var token in new[] { "", "garbage", tampered, session.Token.Replace("v1.", "v1.9", StringComparison.Ordinal) })
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(RelaySessions.WebSocketUri(fixture.RelayUri, token), ct);
            var result = await socket.ReceiveAsync(new byte[1024], ct);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(CloseCodes.Unauthorized, (int)result.CloseStatus!.Value);
        }

        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        var bad = await http.PostAsync("/api/sessions", new StringContent("""{"displayName":"  "}""", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }
}
