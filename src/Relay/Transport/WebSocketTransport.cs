using System.Buffers;
using System.Net.WebSockets;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Transport;

/// <summary>
/// One client's WebSocket as bytes: a receive loop that hands whole messages on, a send loop that drains the bounded
/// send queue, timeouts on slow sends, and the close handshake. It knows nothing of users or calls.
/// </summary>
internal sealed class WebSocketTransport : IDisposable
{
    private const string SendTimedOut = "too slow: a send did not complete in time";
    private const string ControlOverflow = "too slow: control messages were not read in time";
    private readonly WebSocket _socket;
    private readonly ClientSendQueue _queue;
    private readonly FanOutOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly CancellationTokenSource _closing = new();
    private CancellationTokenSource? _sendTimeout; // used by the send loop only
    private int _closeCode;
    private string _closeReason = string.Empty;

    public WebSocketTransport(WebSocket socket, FanOutOptions options, RelayMetrics metrics, RelayState state, FrameDropTally drops)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _socket = socket;
        _options = options;
        _metrics = metrics;
        _queue = new ClientSendQueue(options, metrics, state, drops);
    }

    public CancellationToken Closing => _closing.Token;

    /// <summary>Queues a control message (JSON); a client that does not read them in time is closed (4408).</summary>
    public void EnqueueControl(byte[] message, bool first = false)
    {
        if (!_queue.EnqueueControl(message, first))
        {
            RequestClose(CloseCodes.TooSlow, ControlOverflow);
        }
    }

    public void EnqueueFrame(OutboundFrame frame) => _queue.EnqueueFrame(frame);

    /// <summary>Asks both loops to stop; the first reason given wins and is sent as the close frame.</summary>
    public void RequestClose(int code, string reason)
    {
        if (Interlocked.CompareExchange(ref _closeCode, code, 0) == 0)
        {
            _closeReason = reason;
            _closing.Cancel();
        }
    }

    public (int Code, string Reason) CloseStatus => (_closeCode == 0 ? CloseCodes.Normal : _closeCode, _closeReason);

    /// <summary>Runs the send loop until the connection closes.</summary>
    public async Task SendLoopAsync()
    {
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var item = await _queue.DequeueAsync(_closing.Token);
                if (item is null)
                {
                    if (_queue.Overflowed)
                    {
                        RequestClose(CloseCodes.TooSlow, ControlOverflow);
                    }

                    return;
                }

                var (control, frame) = item.Value;
                try
                {
                    // Sent without a token: with one, ManagedWebSocket always takes its slower, allocating path, and
                    // almost every send completes at once into the socket buffer. Only a send that has to wait gets a
                    // timer, and only that timer ends a send (by aborting the socket): a close request waits for the
                    // current message (at most SendTimeout), so the close frame can still be sent.
                    await CompleteSendAsync(control is not null
                        ? _socket.SendAsync(control.AsMemory(), WebSocketMessageType.Text, true, CancellationToken.None)
                        : _socket.SendAsync(frame!.Memory, WebSocketMessageType.Binary, true, CancellationToken.None));

                    if (frame is not null)
                    {
                        _metrics.FrameForwarded(frame.Kind);
                    }
                }
                catch (Exception ex) when (_sendTimeout?.IsCancellationRequested == true && ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
                {
                    RequestClose(CloseCodes.TooSlow, SendTimedOut);
                    return;
                }
                finally
                {
                    frame?.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException)
        {
            RequestClose(CloseCodes.GoingAway, "connection lost");
        }
        finally
        {
            _queue.Complete();
        }
    }

    private ValueTask CompleteSendAsync(ValueTask send)
    {
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return ValueTask.CompletedTask;
        }

        return AwaitSlowSendAsync(send);
    }

    private void AbortSend()
    {
        // The reason is set before the abort: the aborted receive loop would otherwise close first as "connection lost".
        RequestClose(CloseCodes.TooSlow, SendTimedOut);
        _socket.Abort();
    }

    /// <summary>Waits for a send that did not complete at once; the timeout aborts the socket, which ends the send.</summary>
    private async ValueTask AwaitSlowSendAsync(ValueTask send)
    {
        if (_sendTimeout is null || !_sendTimeout.TryReset())
        {
            _sendTimeout?.Dispose();
            _sendTimeout = new CancellationTokenSource();
        }

        _sendTimeout.CancelAfter(_options.SendTimeout);
        using (_sendTimeout.Token.UnsafeRegister(static state => ((WebSocketTransport)state!).AbortSend(), this))
        {
            await send;
        }

        // Disarmed so that it cannot fire between messages. A send that "completed" because the timeout aborted the
        // transport still counts as timed out.
        if (!_sendTimeout.TryReset())
        {
            throw new OperationCanceledException(_sendTimeout.Token);
        }
    }

    /// <summary>Receives whole messages (text ≤ 64 KiB, binary ≤ header + 256 KiB) and hands each to <paramref name="onMessage"/>.</summary>
    public async Task ReceiveLoopAsync(Func<WebSocketMessageType, ReadOnlyMemory<byte>, ValueTask> onMessage)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        // Small to start (most messages are control or audio); grown only for a message that needs it.
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length > ProtocolLimits.MaxBinaryMessageBytes)
                        {
                            RequestClose(CloseCodes.TooLarge, $"message larger than {ProtocolLimits.MaxBinaryMessageBytes} bytes");
                            return;
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, ProtocolLimits.MaxBinaryMessageBytes + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    // Not cancelled by a close request: aborting a receive would abort the socket and lose the close code.
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        RequestClose(CloseCodes.Normal, "closed by the client");
                        return;
                    }

                    length += result.Count;
                    var limit = result.MessageType == WebSocketMessageType.Text ? ProtocolLimits.MaxTextMessageBytes : ProtocolLimits.MaxBinaryMessageBytes;
                    if (length > limit)
                    {
                        RequestClose(CloseCodes.TooLarge, $"{(result.MessageType == WebSocketMessageType.Text ? "text" : "binary")} message larger than {limit} bytes");
                        return;
                    }
                }
                while (!result.EndOfMessage);

                await onMessage(result.MessageType, buffer.AsMemory(0, length));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            RequestClose(CloseCodes.GoingAway, "connection lost");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Completes when a close was requested (by either side, fan-out or shutdown).</summary>
    public Task WhenCloseRequested()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _closing.Token.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), closed);
        return closed.Task;
    }

    /// <summary>Ends a socket whose peer did not answer the close frame.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>Sends the close frame (best effort, bounded in time) and stops the queue.</summary>
    public async Task CloseAsync()
    {
        _queue.Complete();
        var (code, reason) = CloseStatus;
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync((WebSocketCloseStatus)code, TruncateReason(reason), timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone; nothing more to tell it.
        }
    }

    /// <summary>Closes a socket that never became a session (refused at connect), best effort and bounded in time.</summary>
    public static async Task RefuseAsync(WebSocket socket, int code, string reason)
    {
        ArgumentNullException.ThrowIfNull(socket);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, TruncateReason(reason), timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    }

    // A close frame carries at most 123 bytes of UTF-8 reason (RFC 6455, 5.5): a longer one would make the close
    // throw. Reasons may quote the client's input (a JSON error names the character), so count bytes, and never
    // cut a surrogate pair.
    public static string TruncateReason(string reason)
    {
        const int MaxReasonBytes = 123;
        if (System.Text.Encoding.UTF8.GetByteCount(reason) <= MaxReasonBytes)
        {
            return reason;
        }

        var length = 0;
        var bytes = 0;
        while (length < reason.Length)
        {
            var step = char.IsHighSurrogate(reason[length]) && length + 1 < reason.Length ? 2 : 1;
            var size = System.Text.Encoding.UTF8.GetByteCount(reason.AsSpan(length, step));
            if (bytes + size > MaxReasonBytes - 3)
            {
                break;
            }

            bytes += size;
            length += step;
        }

        return string.Concat(reason.AsSpan(0, length), "…");
    }

    public void Dispose()
    {
        _queue.Dispose();
        _closing.Dispose();
        _sendTimeout?.Dispose();
    }
}
