using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using PgVideoChat.Protocol;
using PgVideoChat.Protocol.Client;

namespace PgVideoChat.Relay.Tests;

/// <summary>A received media frame.</summary>
internal sealed record ReceivedFrame(MediaFrameHeader Header, byte[] Payload, DateTime ReceivedAt);

/// <summary>
/// The shared <see cref="RelayConnection"/> for tests: records every control message and media frame it receives, and
/// waits for the ones a test expects.
/// </summary>
internal sealed class RelayTestClient : IRelayConnectionObserver, IAsyncDisposable
{
    private readonly List<JsonElement> _messages = [];
    private readonly List<ReceivedFrame> _frames = [];
    private readonly Channel<bool> _arrivals = Channel.CreateUnbounded<bool>();
    private RelayConnection? _connection;
    private int _disposed;

    private RelayTestClient(SignInResponse session, bool read)
    {
        Session = session;
        Reading = read;
    }

    public SignInResponse Session { get; }

    public long UserId => Session.UserId;

    public JsonElement Hello { get; private set; }

    public WebSocketCloseStatus? CloseStatus => Connection.CloseStatus;

    public string? CloseDescription => Connection.CloseDescription;

    public bool Closed => Connection.Closed;

    /// <summary>Whether the receive loop runs; a "stalled" client never reads.</summary>
    public bool Reading { get; }

    private RelayConnection Connection => _connection ?? throw new InvalidOperationException("Not connected.");

    public static async Task<SignInResponse> SignInAsync(Uri relay, string displayName, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = relay };
        // Each test user is another person: a client address of its own (believed from a loopback peer, as from the
        // front door), so the per-address sign-in limit meets only the test that is about it.
        http.DefaultRequestHeaders.Add("X-Forwarded-For", $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}");
        return await RelaySessions.SignInAsync(http, displayName, cancellationToken);
    }

    public static async Task<RelayTestClient> ConnectAsync(Uri relay, string displayName, CancellationToken cancellationToken, bool read = true)
        => await ConnectAsync(relay, await SignInAsync(relay, displayName, cancellationToken), cancellationToken, read);

    public static async Task<RelayTestClient> ConnectAsync(Uri relay, SignInResponse session, CancellationToken cancellationToken, bool read = true)
    {
        var client = new RelayTestClient(session, read);
        // A stalled reader keeps the kernel's receive buffer small so back-pressure reaches the relay soon.
        var options = new RelayConnectionOptions { Read = read, SocketBufferBytes = read ? null : 4096, HelloTimeout = TimeSpan.FromSeconds(15), RequestTimeout = TimeSpan.FromSeconds(15) };
        client._connection = await RelayConnection.ConnectAsync(relay, session, client, options, cancellationToken);
        return client;
    }

    public static string? Type(JsonElement message) => message.TryGetProperty("type", out var type) ? type.GetString() : null;

    public IReadOnlyList<JsonElement> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<ReceivedFrame> Frames
    {
        get
        {
            lock (_frames)
            {
                return [.. _frames];
            }
        }
    }

    public IEnumerable<JsonElement> MessagesOfType(string type) => Messages.Where(m => Type(m) == type);

    /// <summary>Sends a request with a fresh <c>rid</c> and returns the relay's <c>ack</c> or <c>error</c> for it.</summary>
    public async Task<JsonElement> RequestAsync(JsonObject request, CancellationToken cancellationToken)
        => (await Connection.RequestAsync(request, cancellationToken)).Message;
    /// <summary>Sends a request and asserts it was acknowledged.</summary>
    public async Task<JsonElement> AckedAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(request, cancellationToken);
        Assert.True(Type(reply) == "ack", $"expected an ack, got {reply}");
        return reply;
    }

    public async Task<long> InviteAsync(CancellationToken cancellationToken, params long[] users)
    {
        var ack = await AckedAsync(new JsonObject { ["type"] = "call.invite", ["to"] = new JsonArray([.. users.Select(u => (JsonNode)u)]) }, cancellationToken);
        return ack.GetProperty("callId").GetInt64();
    }

    public Task<JsonElement> AcceptAsync(long callId, CancellationToken cancellationToken)
        => AckedAsync(new JsonObject { ["type"] = "call.accept", ["callId"] = callId }, cancellationToken);

    public Task<JsonElement> HangupAsync(long callId, CancellationToken cancellationToken)
        => AckedAsync(new JsonObject { ["type"] = "call.hangup", ["callId"] = callId }, cancellationToken);

    public async Task<long> ChatAsync(long callId, string text, CancellationToken cancellationToken, string? clientMsgId = null)
    {
        var ack = await AckedAsync(new JsonObject { ["type"] = "chat.send", ["callId"] = callId, ["text"] = text, ["clientMsgId"] = clientMsgId }, cancellationToken);
        return ack.GetProperty("id").GetInt64();
    }

    public Task SendTextAsync(string text, CancellationToken cancellationToken) => Connection.SendTextAsync(text, cancellationToken);

    public async Task SendFrameAsync(MediaFrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var message = new byte[MediaFrameHeader.Size + payload.Length];
        header.Write(message);
        payload.CopyTo(message.AsMemory(MediaFrameHeader.Size));
        await SendAsync(message, WebSocketMessageType.Binary, cancellationToken);
    }

    public Task SendAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
        => Connection.SendAsync(message, type, cancellationToken);

    /// <summary>Waits for a control message matching <paramref name="predicate"/> (one already received counts).</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> predicate, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var match = Messages.FirstOrDefault(predicate);
            if (match.ValueKind != JsonValueKind.Undefined)
            {
                return match;
            }

            if (Closed)
            {
                throw new InvalidOperationException($"The connection closed ({CloseStatus} {CloseDescription}) before the expected message; the last ones: {string.Join(", ", Messages.TakeLast(20).Select(m => m.ToString()))}");
            }

            try
            {
                await _arrivals.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No matching message within the timeout; user {UserId} got, last: {string.Join(", ", Messages.TakeLast(40).Select(m => m.ToString()))}");
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> frames matching <paramref name="predicate"/> arrived.</summary>
    public async Task<IReadOnlyList<ReceivedFrame>> WaitForFramesAsync(int count, Func<ReceivedFrame, bool> predicate, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var frames = Frames.Where(predicate).ToList();
            if (frames.Count >= count)
            {
                return frames;
            }

            try
            {
                await _arrivals.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"user {UserId} received {frames.Count} of {count} expected frames");
            }
        }
    }

    /// <summary>Waits for the relay to close the connection; returns the close status.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Description)> WaitForCloseAsync(CancellationToken cancellationToken)
    {
        await Connection.WaitForCloseAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return (CloseStatus, CloseDescription);
    }

    /// <summary>Stops reading from the socket (a stalled consumer): the relay's sends back up.</summary>
    public void PauseReading() => Connection.PauseReading();

    public void ResumeReading() => Connection.ResumeReading();

    void IRelayConnectionObserver.OnControl(RelayConnection connection, string? type, ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var message = document.RootElement.Clone();
        if (type == "hello" && Hello.ValueKind == JsonValueKind.Undefined)
        {
            Hello = message;
        }

        lock (_messages)
        {
            _messages.Add(message);
        }

        _arrivals.Writer.TryWrite(true);
    }

    void IRelayConnectionObserver.OnFrame(RelayConnection connection, in MediaFrameHeader header, ReadOnlySpan<byte> payload, int messageBytes)
    {
        lock (_frames)
        {
            _frames.Add(new ReceivedFrame(header, payload.ToArray(), DateTime.UtcNow));
        }

        _arrivals.Writer.TryWrite(true);
    }

    void IRelayConnectionObserver.OnMalformedFrame(RelayConnection connection, string reason)
    {
        lock (_messages)
        {
            // Recorded as a message, so that a test waiting for frames fails with the reason instead of a timeout.
            _messages.Add(JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["type"] = "malformed_frame_from_relay", ["reason"] = reason }));
        }

        _arrivals.Writer.TryWrite(true);
    }

    void IRelayConnectionObserver.OnClosed(RelayConnection connection) => _arrivals.Writer.TryWrite(true);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
