using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.Relay.UnitTests.Codec;

/// <summary>The pure parts of the shared protocol client: the envelope read, reply matching by rid, and the reply's fields.</summary>
public sealed class RelayConnectionPartsTests
{
    [Theory]
    [InlineData("""{"type":"ack","rid":"r1","callId":5}""", "ack", "r1")]
    [InlineData("""{"rid":"r2","nested":{"type":"x","rid":"y"},"type":"error"}""", "error", "r2")]
    [InlineData("""{"type":"call","participants":[{"type":"member"}]}""", "call", null)]
    [InlineData("""{"type":7,"rid":["r3"]}""", null, null)]
    [InlineData("""[{"type":"ack"}]""", null, null)]
    public void The_envelope_is_the_top_level_type_and_rid_only(string json, string? type, string? rid)
        => Assert.Equal((type, rid), ControlEnvelope.Read(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public async Task A_reply_settles_the_request_with_its_rid_and_outlives_the_receive_buffer()
    {
        var pending = new PendingReplies();
        var (first, second) = (pending.NextRid(), pending.NextRid());
        Assert.Equal(["r1", "r2"], [first, second]);
        var waiting = pending.Track(first);
        var other = pending.Track(second);

        var buffer = Encoding.UTF8.GetBytes($$"""{"type":"ack","rid":"{{first}}","callId":42}""");
        pending.Settle(first, buffer);
        buffer.AsSpan().Clear();

        var reply = await waiting;
        Assert.True(reply.Ok);
        Assert.Equal(42, reply.CallId);
        Assert.False(other.IsCompleted);
        pending.FailAll(() => new WebSocketException("closed"));
        await Assert.ThrowsAsync<WebSocketException>(() => other);
    }

    [Fact]
    public void An_error_reply_gives_its_code_and_message_and_no_ack_fields()
    {
        var reply = new RelayReply(JsonDocument.Parse($$"""{"type":"error","rid":"r1","code":"{{ErrorCodes.RateLimited}}","message":"slow down","retryAfterMs":500}""").RootElement);
        Assert.False(reply.Ok);
        Assert.Equal(ErrorCodes.RateLimited, reply.Code);
        Assert.Equal("slow down", reply.ErrorMessage);
        Assert.Null(reply.CallId);
        Assert.Null(reply.Id);
    }

    [Fact]
    public void The_socket_address_carries_the_token_escaped_on_ws_or_wss()
    {
        Assert.Equal("ws://127.0.0.1:5000/ws?access_token=v1.a%2Bb%2F%3D", RelaySessions.WebSocketUri(new Uri("http://127.0.0.1:5000/"), "v1.a+b/=").ToString());
        Assert.StartsWith("wss://relay.example/ws?", RelaySessions.WebSocketUri(new Uri("https://relay.example"), "t").ToString(), StringComparison.Ordinal);
    }
}
