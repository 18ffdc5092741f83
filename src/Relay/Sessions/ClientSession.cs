using System.Text.Json;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.Sessions;

/// <summary>
/// One signed-in user's connection as the pattern sees it: who it is, which events it already has (so none arrives
/// twice), and its per-connection limits. Events reach it only from fan-out (that is, from the slot); its bytes go
/// through its <see cref="WebSocketTransport"/>.
/// </summary>
internal sealed class ClientSession
{
    private readonly WebSocketTransport _transport;
    private readonly SessionEventFilter _events;

    public ClientSession(long id, long userId, WebSocketTransport transport, int floodRefusals, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(time);
        Id = id;
        UserId = userId;
        _transport = transport;
        _events = new SessionEventFilter(message => transport.EnqueueControl(message));
        RateLimiter = new MediaRateLimiter(time);
        FloodGuard = new ControlFloodGuard(time, floodRefusals);
    }

    public long Id { get; }

    public long UserId { get; }

    /// <summary>The user's display name, from the <c>hello</c> (set by <see cref="Start"/>, before the receive loop runs).</summary>
    public string DisplayName { get; private set; } = string.Empty;

    /// <summary>Per-connection frame rate and error throttling; used only by the receive loop.</summary>
    public MediaRateLimiter RateLimiter { get; }

    /// <summary>Counts this connection's requests refused by a per-user limit; used only by the receive loop.</summary>
    public ControlFloodGuard FloodGuard { get; }

    public CancellationToken Closing => _transport.Closing;

    /// <summary>Sends the <c>hello</c> first, then the chat and call events fan-out delivered while the snapshot was read.</summary>
    public void Start(HelloMessage hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        DisplayName = hello.User.DisplayName;
        _events.Start(hello, () => _transport.EnqueueControl(
            JsonSerializer.SerializeToUtf8Bytes(hello, ProtocolJsonContext.Default.HelloMessage), first: true));
    }

    public void SendCall(long callId, long version, byte[] message) => _events.Call(callId, version, message);

    public void SendChat(long chatId, byte[] message) => _events.Chat(chatId, message);

    public void SendControl(byte[] message) => _transport.EnqueueControl(message);

    public void SendFrame(OutboundFrame frame) => _transport.EnqueueFrame(frame);

    public void SendError(string? rid, string code, string message, int? retryAfterMs = null)
        => SendControl(JsonSerializer.SerializeToUtf8Bytes(new ErrorMessage(rid, code, message, retryAfterMs), ProtocolJsonContext.Default.ErrorMessage));

    public void SendAck(AckMessage ack)
        => SendControl(JsonSerializer.SerializeToUtf8Bytes(ack, ProtocolJsonContext.Default.AckMessage));

    /// <summary>Asks the connection to close; the first reason given wins and is sent as the close frame.</summary>
    public void RequestClose(int code, string reason) => _transport.RequestClose(code, reason);

    public override string ToString() => $"session {Id} (user {UserId})";
}
