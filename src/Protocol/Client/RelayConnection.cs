using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgVideoChat.Protocol.Client;

/// <summary>
/// One client connection speaking the relay's protocol: connects with a session's token, waits for <c>hello</c>, sends
/// requests with <c>rid</c>s and matches their replies, sends media frames, and reads everything in one receive loop
/// over a pooled buffer, handing each message to an <see cref="IRelayConnectionObserver"/>. The tests and the load
/// runner both speak through it, so the protocol has one C# client.
/// </summary>
public sealed partial class RelayConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly PendingReplies _pending = new();
    private readonly TaskCompletionSource _helloReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly IRelayConnectionObserver _observer;
    private readonly RelayConnectionOptions _options;
    private TaskCompletionSource _resume = CompletedGate();
    private Task? _receiving;
    private volatile bool _closing;
    private volatile bool _closed;
    private int _disposed;

    private RelayConnection(SignInResponse session, IRelayConnectionObserver observer, RelayConnectionOptions options)
    {
        Session = session;
        _observer = observer;
        _options = options;
    }

    public SignInResponse Session { get; }

    public long UserId => Session.UserId;

    public bool IsOpen => _socket.State == WebSocketState.Open;

    /// <summary>Set before the observer hears of the close, so nobody it wakes misses it.</summary>
    public bool Closed => _closed;

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    /// <summary>The connection ended while this side did not close it.</summary>
    public bool LostUnexpectedly { get; private set; }

    /// <summary>Connects and, when it reads, returns once <c>hello</c> arrived.</summary>
    public static async Task<RelayConnection> ConnectAsync(
        Uri relay, SignInResponse session, IRelayConnectionObserver observer, RelayConnectionOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relay);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(observer);
        options ??= new RelayConnectionOptions();
        var connection = new RelayConnection(session, observer, options);
        if (options.SocketBufferBytes is { } bufferBytes)
        {
            connection._socket.Options.SetBuffer(bufferBytes, bufferBytes);
        }

        if (options.KeepAliveInterval is { } keepAlive)
        {
            connection._socket.Options.KeepAliveInterval = keepAlive;
        }

        try
        {
            await connection._socket.ConnectAsync(RelaySessions.WebSocketUri(relay, session.Token), cancellationToken);
            if (options.Read)
            {
                connection._receiving = Task.Run(connection.ReceiveLoopAsync, CancellationToken.None);
                await connection._helloReceived.Task.WaitAsync(options.HelloTimeout, cancellationToken);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> with a fresh <c>rid</c> and returns the relay's reply to it.</summary>
    public Task<RelayReply> RequestAsync(JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var rid = _pending.NextRid();
        request["rid"] = rid;
        return RequestAsync(rid, request["type"]?.ToString() ?? "(no type)", Encoding.UTF8.GetBytes(request.ToJsonString()), cancellationToken);
    }

    /// <summary>Sends a <paramref name="type"/> request whose other fields <paramref name="fields"/> writes, and returns the reply.</summary>
    public Task<RelayReply> RequestAsync(string type, Action<Utf8JsonWriter> fields, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var rid = _pending.NextRid();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("rid", rid);
            fields(writer);
            writer.WriteEndObject();
        }

        return RequestAsync(rid, type, buffer.WrittenMemory, cancellationToken);
    }

    /// <summary>Sends one message as it is; sends from several tasks take turns.</summary>
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

    public Task SendTextAsync(string text, CancellationToken cancellationToken)
        => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken);

    /// <summary>
    /// Sends one media frame (header and payload already in <paramref name="message"/>) on the fast path: for a caller
    /// that sends media from one loop and nothing else meanwhile. Sent without a token, because with one
    /// ManagedWebSocket always takes its slower, allocating path, and almost every send completes at once; a send that
    /// has to wait is cancelled the way ManagedWebSocket would cancel it, by aborting the socket.
    /// </summary>
    public ValueTask SendMediaAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var send = _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return ValueTask.CompletedTask;
        }

        return AwaitSendAsync(send, cancellationToken);
    }

    /// <summary>Stops reading (a consumer that stalls): the relay's sends back up until <see cref="ResumeReading"/>.</summary>
    public void PauseReading() => _resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResumeReading() => _resume.TrySetResult();

    /// <summary>Waits for the receive loop to end, e.g. after the relay closed the connection.</summary>
    public async Task WaitForCloseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_receiving is null)
        {
            throw new InvalidOperationException("This connection does not read.");
        }

        await _receiving.WaitAsync(timeout, cancellationToken);
    }

    private async Task<RelayReply> RequestAsync(string rid, string type, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var reply = _pending.Track(rid);
        try
        {
            if (_closed)
            {
                throw Lost();
            }

            await SendAsync(message, WebSocketMessageType.Text, cancellationToken);
            return await reply.WaitAsync(_options.RequestTimeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"user {UserId}: no reply to {type} ({rid}) within {_options.RequestTimeout.TotalSeconds:0} s", ex);
        }
        finally
        {
            _pending.Forget(rid);
        }
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

    private WebSocketException Lost() => new($"user {UserId}: the connection closed ({CloseStatus} {CloseDescription})");

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }

    /// <summary>Closes normally (waiting briefly for the relay's close), then stops the receive loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _closing = true;
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, _options.CloseReason, timeout.Token);
                if (_receiving is not null && _resume.Task.IsCompleted)
                {
                    await _receiving.WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }

        _socket.Abort();
        _resume.TrySetResult();
        if (_receiving is not null)
        {
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _socket.Dispose();
        _sendLock.Dispose();
    }

    public override string ToString() => $"user {UserId} ({Session.DisplayName})";
}
