using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests;

/// <summary>A received media frame.</summary>
internal sealed record ReceivedFrame(MediaFrameHeader Header, byte[] Payload, DateTime ReceivedAt);

/// <summary>
/// A protocol-speaking WebSocket client for tests: signs in over HTTP, connects, records every control
/// message and media frame it receives, and sends requests with <c>rid</c>s.
/// </summary>
internal sealed class RelayTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonElement> _messages = [];
    private readonly List<ReceivedFrame> _frames = [];
    private readonly Channel<bool> _arrivals = Channel.CreateUnbounded<bool>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _receiving;
    private TaskCompletionSource _resume = CompletedGate();
    private int _nextRid;
    private bool _closed;
    private int _disposed;

    private RelayTestClient(SignInResponse session) => Session = session;

    public SignInResponse Session { get; }

    public long UserId => Session.UserId;

    public JsonElement Hello { get; private set; }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    /// <summary>Set by the receive loop before it wakes waiters for the last time, so no waiter misses the close.</summary>
    public bool Closed => Volatile.Read(ref _closed);

    /// <summary>Whether the receive loop runs; a "stalled" client never reads.</summary>
    public bool Reading { get; private init; } = true;

    public static async Task<SignInResponse> SignInAsync(Uri relay, string displayName, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = relay };
        // Each test user is another person: a client address of its own (believed from a loopback peer, as from the
        // front door), so the per-address sign-in limit meets only the test that is about it.
        http.DefaultRequestHeaders.Add("X-Forwarded-For", $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}");
        var response = await http.PostAsJsonAsync("/api/sessions", new { displayName }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SignInResponse>(cancellationToken))!;
    }

    public static async Task<RelayTestClient> ConnectAsync(Uri relay, string displayName, CancellationToken cancellationToken, bool read = true)
        => await ConnectAsync(relay, await SignInAsync(relay, displayName, cancellationToken), cancellationToken, read);

    public static async Task<RelayTestClient> ConnectAsync(Uri relay, SignInResponse session, CancellationToken cancellationToken, bool read = true)
    {
        var client = new RelayTestClient(session) { Reading = read };
        if (!read)
        {
            // A stalled reader: keep the kernel's receive buffer small so back-pressure reaches the relay soon.
            client._socket.Options.SetBuffer(4096, 4096);
        }

        await client._socket.ConnectAsync(WebSocketUri(relay, session.Token), cancellationToken);
        if (read)
        {
            client._receiving = client.ReceiveLoopAsync();
            client.Hello = await client.WaitForAsync(m => Type(m) == "hello", cancellationToken);
        }

        return client;
    }

    public static Uri WebSocketUri(Uri relay, string token)
    {
        var builder = new UriBuilder(relay) { Scheme = relay.Scheme == "https" ? "wss" : "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) };
        return builder.Uri;
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
    {
        ArgumentNullException.ThrowIfNull(request);
        var rid = $"r{Interlocked.Increment(ref _nextRid)}";
        request["rid"] = rid;
        await SendTextAsync(request.ToJsonString(), cancellationToken);
        return await WaitForAsync(m => Type(m) is "ack" or "error" && m.TryGetProperty("rid", out var r) && r.GetString() == rid, cancellationToken);
    }

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

    public async Task SendTextAsync(string text, CancellationToken cancellationToken)
        => await SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken);

    public async Task SendFrameAsync(MediaFrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var message = new byte[MediaFrameHeader.Size + payload.Length];
        header.Write(message);
        payload.CopyTo(message.AsMemory(MediaFrameHeader.Size));
        await SendAsync(message, WebSocketMessageType.Binary, cancellationToken);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(message, type, true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

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
        if (_receiving is null)
        {
            throw new InvalidOperationException("This client does not read.");
        }

        await _receiving.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        return (_socket.CloseStatus, _socket.CloseStatusDescription);
    }

    /// <summary>Stops reading from the socket (a stalled consumer): the relay's sends back up.</summary>
    public void PauseReading() => _resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResumeReading() => _resume.TrySetResult();

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1024 * 1024];
        try
        {
            while (true)
            {
                await _resume.Task.WaitAsync(_stop.Token);
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (_socket.State == WebSocketState.CloseReceived)
                        {
                            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        }

                        return;
                    }

                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Text)
                {
                    using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                    lock (_messages)
                    {
                        _messages.Add(document.RootElement.Clone());
                    }
                }
                else
                {
                    Assert.True(MediaFrameHeader.TryRead(buffer.AsSpan(0, length), out var header, out var headerLength, out var error), error);
                    lock (_frames)
                    {
                        _frames.Add(new ReceivedFrame(header, buffer.AsSpan(headerLength, length - headerLength).ToArray(), DateTime.UtcNow));
                    }
                }

                _arrivals.Writer.TryWrite(true);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            Volatile.Write(ref _closed, true);
            _arrivals.Writer.TryWrite(true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _resume.TrySetResult();
        await _stop.CancelAsync();
        if (_receiving is not null)
        {
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
