using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Protocol;

namespace PgVideoChat.LoadTests.Client;

/// <summary>Receives the media frames a participant gets (called on the participant's receive loop).</summary>
internal interface IMediaSink
{
    void OnFrame(Participant receiver, in MediaFrameHeader header, int payloadBytes, long receivedMicros);

    void OnError(Participant receiver, string code);
}

/// <summary>A relay's reply to a request.</summary>
internal readonly record struct Reply(bool Ok, long? CallId, string? Code, string? Message);

/// <summary>
/// One simulated participant speaking the real protocol: signs in over HTTP, holds one WebSocket, sends requests with
/// <c>rid</c>s and media frames, and reads everything in one receive loop over a pooled buffer. Control messages are
/// parsed with the shared codec; media frames are only header-parsed and handed to an <see cref="IMediaSink"/>.
/// </summary>
internal sealed class Participant : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Reply>> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, CallMessage> _calls = new();
    private readonly List<(Func<CallMessage, bool> Predicate, TaskCompletionSource<CallMessage> Done)> _callWaiters = [];
    private readonly Lock _callGate = new();
    private readonly IMediaSink _sink;
    private readonly TaskCompletionSource _helloReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiving;
    private IReadOnlyDictionary<long, FlowTracker[]> _flows = new Dictionary<long, FlowTracker[]>();
    private int _nextRid;
    private volatile bool _closing;
    private bool _disposed;

    private Participant(SignInResponse session, IMediaSink sink)
    {
        Session = session;
        _sink = sink;
    }

    public SignInResponse Session { get; }

    public long UserId => Session.UserId;

    /// <summary>Per-sender, per-kind trackers of what this participant received (index 0 video, 1 audio); set once before media flows.</summary>
    public IReadOnlyDictionary<long, FlowTracker[]> Flows
    {
        get => Volatile.Read(ref _flows);
        set => Volatile.Write(ref _flows, value);
    }

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    /// <summary>The connection ended while we did not close it.</summary>
    public bool LostUnexpectedly { get; private set; }

    public long FramesReceived { get; private set; }

    public long BytesReceived { get; private set; }

    public static async Task<SignInResponse> SignInAsync(HttpClient http, string displayName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.PostAsJsonAsync("/api/sessions", new SignInRequest(displayName), ProtocolJsonContext.Default.SignInRequest, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"sign-in as '{displayName}' failed: {(int)response.StatusCode} {body}");
        }

        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SignInResponse, cancellationToken))
            ?? throw new HttpRequestException("sign-in returned no session");
    }

    public static async Task<Participant> ConnectAsync(Uri relay, SignInResponse session, IMediaSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relay);
        ArgumentNullException.ThrowIfNull(session);
        var participant = new Participant(session, sink);
        participant._socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        try
        {
            await participant._socket.ConnectAsync(WebSocketUri(relay, session.Token), cancellationToken);
            participant._receiving = Task.Run(participant.ReceiveLoopAsync, CancellationToken.None);
            await participant._helloReceived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            return participant;
        }
        catch
        {
            await participant.DisposeAsync();
            throw;
        }
    }

    public static Uri WebSocketUri(Uri relay, string token)
    {
        ArgumentNullException.ThrowIfNull(relay);
        var builder = new UriBuilder(relay)
        {
            Scheme = relay.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = "/ws",
            Query = "access_token=" + Uri.EscapeDataString(token),
        };
        return builder.Uri;
    }

    /// <summary>Sends <c>call.invite</c> and returns the new call's id.</summary>
    public async Task<long> InviteAsync(IReadOnlyList<long> callees, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(RequestTypes.CallInvite, w =>
        {
            w.WriteStartArray("to");
            foreach (var callee in callees)
            {
                w.WriteNumberValue(callee);
            }

            w.WriteEndArray();
        }, cancellationToken);
        return reply.Ok && reply.CallId is { } callId ? callId : throw Refused(RequestTypes.CallInvite, reply);
    }

    public async Task AcceptAsync(long callId, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(RequestTypes.CallAccept, w => w.WriteNumber("callId", callId), cancellationToken);
        if (!reply.Ok)
        {
            throw Refused(RequestTypes.CallAccept, reply);
        }
    }

    public async Task<Reply> HangupAsync(long callId, CancellationToken cancellationToken)
        => await RequestAsync(RequestTypes.CallHangup, w => w.WriteNumber("callId", callId), cancellationToken);

    /// <summary>Waits for a <c>call</c> event (one already received counts) that satisfies <paramref name="predicate"/>.</summary>
    public Task<CallMessage> WaitForCallAsync(long callId, Func<CallMessage, bool> predicate, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<CallMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool Matches(CallMessage call) => call.CallId == callId && predicate(call);
        lock (_callGate)
        {
            if (_calls.TryGetValue(callId, out var known) && Matches(known))
            {
                return Task.FromResult(known);
            }

            _callWaiters.Add((Matches, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends one binary message (header and payload already in <paramref name="message"/>). Sent without a token, because
    /// with one ManagedWebSocket always takes its slower, allocating path (about 4 % of the runner's CPU at 45 calls), and
    /// almost every send completes at once. A send that has to wait is cancelled the way ManagedWebSocket would cancel
    /// it: by aborting the socket.
    /// </summary>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        => CompleteSendAsync(_socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None), cancellationToken);

    private ValueTask CompleteSendAsync(ValueTask send, CancellationToken cancellationToken)
    {
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return ValueTask.CompletedTask;
        }

        return AwaitSendAsync(send, cancellationToken);
    }

    private async ValueTask AwaitSendAsync(ValueTask send, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static socket => ((WebSocket)socket!).Abort(), _socket))
        {
            try
            {
                await send;
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
            {
                throw new OperationCanceledException("The send was cancelled by aborting the socket.", ex, cancellationToken);
            }
        }
    }

    public bool IsOpen => _socket.State == WebSocketState.Open;

    private async Task<Reply> RequestAsync(string type, Action<Utf8JsonWriter> fields, CancellationToken cancellationToken)
    {
        var rid = "r" + Interlocked.Increment(ref _nextRid).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var done = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = done;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("rid", rid);
            fields(writer);
            writer.WriteEndObject();
        }

        try
        {
            await _socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, true, cancellationToken);
            return await done.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        finally
        {
            _pending.TryRemove(rid, out _);
        }
    }

    private static InvalidOperationException Refused(string type, Reply reply) => new($"{type} was refused: {reply.Code} {reply.Message}");

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.MaxBinaryMessageBytes + 4096);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        // Larger than anything the protocol sends; grow rather than fail.
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    // No token (a token costs a registration per call); disposal aborts the socket instead, which ends the read.
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        CloseStatus = _socket.CloseStatus;
                        CloseDescription = _socket.CloseStatusDescription;
                        LostUnexpectedly = !_closing;
                        if (_socket.State == WebSocketState.CloseReceived)
                        {
                            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                        }

                        return;
                    }

                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    var now = Clock.NowMicros;
                    if (MediaFrameHeader.TryRead(buffer.AsSpan(0, length), out var header, out var headerLength, out _))
                    {
                        FramesReceived++;
                        BytesReceived += length;
                        _sink.OnFrame(this, header, length - headerLength, now);
                    }
                    else
                    {
                        _sink.OnError(this, "malformed_frame_from_relay");
                    }
                }
                else
                {
                    OnControl(buffer.AsMemory(0, length));
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LostUnexpectedly = !_closing;
            CloseDescription ??= ex.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _helloReceived.TrySetException(new WebSocketException($"the connection closed before hello ({CloseStatus} {CloseDescription})"));
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new WebSocketException($"the connection closed ({CloseStatus} {CloseDescription})"));
            }

            lock (_callGate)
            {
                foreach (var (_, done) in _callWaiters)
                {
                    done.TrySetException(new WebSocketException($"the connection closed ({CloseStatus} {CloseDescription})"));
                }

                _callWaiters.Clear();
            }
        }
    }

    private void OnControl(ReadOnlyMemory<byte> json)
    {
        string? type = null;
        var reader = new Utf8JsonReader(json.Span);
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.GetString();
                    break;
                }

                reader.Read();
                reader.Skip();
            }
        }

        switch (type)
        {
            case "hello":
                _helloReceived.TrySetResult();
                break;
            case "ack":
                {
                    var ack = JsonSerializer.Deserialize(json.Span, ProtocolJsonContext.Default.AckMessage);
                    if (ack is not null && _pending.TryGetValue(ack.Rid, out var done))
                    {
                        done.TrySetResult(new Reply(true, ack.CallId, null, null));
                    }

                    break;
                }

            case "error":
                {
                    var error = JsonSerializer.Deserialize(json.Span, ProtocolJsonContext.Default.ErrorMessage);
                    if (error is null)
                    {
                        break;
                    }

                    if (error.Rid is not null && _pending.TryGetValue(error.Rid, out var done))
                    {
                        done.TrySetResult(new Reply(false, null, error.Code, error.Message));
                    }
                    else
                    {
                        _sink.OnError(this, error.Code);
                    }

                    break;
                }

            case "call":
                {
                    var call = JsonSerializer.Deserialize(json.Span, ProtocolJsonContext.Default.CallMessage);
                    if (call is not null)
                    {
                        OnCall(call);
                    }

                    break;
                }

            default:
                // presence, chat: not used by the load scenario.
                break;
        }
    }

    private void OnCall(CallMessage call)
    {
        lock (_callGate)
        {
            if (_calls.TryGetValue(call.CallId, out var known) && known.Version >= call.Version)
            {
                return;
            }

            _calls[call.CallId] = call;
            for (var i = _callWaiters.Count - 1; i >= 0; i--)
            {
                if (_callWaiters[i].Predicate(call))
                {
                    _callWaiters[i].Done.TrySetResult(call);
                    _callWaiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Closes the connection normally (waiting briefly for the relay's close), then stops the receive loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _closing = true;
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "load test done", timeout.Token);
                if (_receiving is not null)
                {
                    await _receiving.WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }

        _socket.Abort();
        if (_receiving is not null)
        {
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _socket.Dispose();
    }

    public override string ToString() => $"user {UserId} ({Session.DisplayName})";

    internal static string Describe(Exception ex) => ex is AggregateException { InnerException: { } inner } ? Describe(inner) : ex.GetType().Name + ": " + ex.Message;
}
