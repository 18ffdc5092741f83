using System.Buffers;
using System.Net.WebSockets;

namespace PgVideoChat.Protocol.Client;

/// <summary>The receive loop: one pooled buffer, each whole message handed to the observer in arrival order.</summary>
public sealed partial class RelayConnection
{
    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.MaxBinaryMessageBytes + 4096);
        try
        {
            while (true)
            {
                await _resume.Task;
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
                        await OnCloseReceivedAsync();
                        return;
                    }

                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    OnBinary(buffer.AsSpan(0, length));
                }
                else
                {
                    OnText(buffer.AsSpan(0, length));
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
            _closed = true;
            _helloReceived.TrySetException(new WebSocketException($"the connection closed before hello ({CloseStatus} {CloseDescription})"));
            _pending.FailAll(Lost);

            _observer.OnClosed(this);
        }
    }

    private async Task OnCloseReceivedAsync()
    {
        CloseStatus = _socket.CloseStatus;
        CloseDescription = _socket.CloseStatusDescription;
        LostUnexpectedly = !_closing;
        if (_socket.State == WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
    }

    private void OnBinary(ReadOnlySpan<byte> message)
    {
        if (MediaFrameHeader.TryRead(message, out var header, out var headerLength, out var error))
        {
            _observer.OnFrame(this, header, message[headerLength..], message.Length);
        }
        else
        {
            _observer.OnMalformedFrame(this, error ?? "malformed frame");
        }
    }

    private void OnText(ReadOnlySpan<byte> json)
    {
        var (type, rid) = ControlEnvelope.Read(json);

        // The observer hears of hello or a reply before its waiter resumes, so the waiter finds it among what was
        // received (a test that reads the hello right after ConnectAsync once found it missing).
        _observer.OnControl(this, type, json);
        if (type == "hello")
        {
            _helloReceived.TrySetResult();
        }
        else if (type is "ack" or "error" && rid is not null)
        {
            _pending.Settle(rid, json);
        }
    }
}
