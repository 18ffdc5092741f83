using System.Net.WebSockets;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Chat;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Ingest;

/// <summary>
/// Everything a client sends: control requests become transactions (call state, chat), media frames go to the
/// write pipeline. The sender is always the connection's authenticated user. Nothing is sent to other
/// clients from here: they learn of it from the slot.
/// </summary>
internal sealed class ClientMessageHandler(
    CallStore calls,
    CallDirectory directory,
    ChatStore chat,
    MediaIngestPipeline pipeline,
    RecipientShards recipientShards,
    UserRequestLimits limits,
    RelayMetrics metrics,
    ILogger<ClientMessageHandler> logger)
{
    public async ValueTask HandleAsync(ClientSession connection, WebSocketMessageType type, ReadOnlyMemory<byte> message)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            if (type == WebSocketMessageType.Binary)
            {
                HandleFrame(connection, message.Span);
                return;
            }

            await HandleControlAsync(connection, message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug, not bad input (bad input has its documented answer): this client is closed as an internal error,
            // the others are not disturbed, and the log has one entry with the exception.
            Log.MessageFailed(logger, ex, connection.Id, connection.UserId, type == WebSocketMessageType.Binary ? "binary" : "text");
            connection.RequestClose(CloseCodes.InternalError, "internal error");
        }
    }

    private void HandleFrame(ClientSession connection, ReadOnlySpan<byte> message)
    {
        if (!MediaFrameHeader.TryRead(message, out var header, out var headerLength, out var error))
        {
            Malformed(connection, error!);
            return;
        }

        var payload = message[headerLength..];
        var fault = MediaFrameRules.Check(header, payload);
        if (fault is not null)
        {
            if (fault.Value.TooLarge)
            {
                Log.MalformedMessage(logger, connection.Id, connection.UserId, fault.Value.Reason);
                connection.RequestClose(CloseCodes.TooLarge, fault.Value.Reason);
            }
            else
            {
                Malformed(connection, fault.Value.Reason);
            }

            return;
        }

        if (header.SenderId != 0 && header.SenderId != connection.UserId)
        {
            Refuse(connection, header.Kind, "forged_sender", ErrorCodes.InvalidMessage, "senderId must be 0 or your own user id");
            return;
        }

        var membership = directory.CheckMediaSender(header.CallId, connection.UserId, out var call);
        if (membership is not null)
        {
            Refuse(connection, header.Kind, "not_participant", membership,
                membership == ErrorCodes.InvalidState ? $"call {header.CallId} is not active" : $"you are not a joined participant of call {header.CallId}");
            return;
        }

        switch (connection.RateLimiter.Check(header.Kind))
        {
            case RateVerdict.Dropped:
                Refuse(connection, header.Kind, "rate_limited", ErrorCodes.RateLimited, $"{RelayMetrics.KindName(header.Kind)} frames above the per-second limit are dropped");
                return;
            case RateVerdict.Flooding:
                metrics.FrameDropped(header.Kind, "rate_limited");
                connection.RequestClose(CloseCodes.Flooding, "flooding: frame rate far above the limit");
                return;
        }

        // A null membership error means the call was found: route by the snapshot the check decided on.
        if (!pipeline.TryEnqueue(header, connection.UserId, recipientShards.For(call!, connection.UserId), payload))
        {
            Refuse(connection, header.Kind, "ingest_full", ErrorCodes.Unavailable, "the relay's write pipeline is full; frame dropped");
        }
    }

    private async ValueTask HandleControlAsync(ClientSession connection, ReadOnlyMemory<byte> message)
    {
        var status = ClientRequestParser.TryParse(message, out var request, out var rid, out var error);
        switch (status)
        {
            case ParseStatus.Malformed:
                Malformed(connection, error);
                return;
            case ParseStatus.Invalid:
                Reject(connection, rid, ErrorCodes.InvalidMessage, error);
                return;
            case ParseStatus.UnknownType:
                Reject(connection, rid, ErrorCodes.UnknownType, error);
                return;
        }

        if (RequestLimits.Of(request!) is { } limit)
        {
            var verdict = limits.TryAcquire(connection.UserId, limit.Kind, limit.Cost);
            if (!verdict.Granted)
            {
                RateLimited(connection, request!, limit.Kind, verdict.RetryAfter);
                return;
            }
        }

        try
        {
            await ExecuteAsync(connection, request!);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !connection.Closing.IsCancellationRequested)
        {
            Log.RequestFailed(logger, ex, request!.Type, connection.UserId);
            Reject(connection, rid, ErrorCodes.Unavailable, "the database is unreachable; retry later");
        }
        catch (OperationCanceledException) when (connection.Closing.IsCancellationRequested)
        {
        }
    }

    private async Task ExecuteAsync(ClientSession connection, ClientRequest request)
    {
        var user = connection.UserId;
        var ct = connection.Closing;
        CallOutcome outcome;
        switch (request.Type)
        {
            case RequestTypes.Ping:
                Ack(connection, request.Rid);
                return;
            case RequestTypes.ChatSend:
                var sent = await chat.SendAsync(user, connection.DisplayName, request, ct);
                if (sent.Error is not null)
                {
                    Reject(connection, request.Rid, sent.Error, sent.Message!);
                    return;
                }

                Ack(connection, request.Rid, id: sent.Id);
                return;
            case RequestTypes.ChatHistory:
                var page = await chat.HistoryAsync(user, request, ct);
                if (page.Error is not null)
                {
                    Reject(connection, request.Rid, page.Error, page.Message!);
                    return;
                }

                if (request.Rid is not null)
                {
                    connection.SendAck(new AckMessage(request.Rid, Messages: page.Messages));
                }

                return;
            case RequestTypes.CallInvite:
                outcome = await calls.InviteAsync(user, request.Invitees, ct);
                break;
            case RequestTypes.CallAdd:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.Add(call, user, request.UserId), ct);
                break;
            case RequestTypes.CallAccept:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.Accept(call, user), ct);
                break;
            case RequestTypes.CallDecline:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.Decline(call, user), ct);
                break;
            case RequestTypes.CallHangup:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.Hangup(call, user), ct);
                break;
            case RequestTypes.CallRecordStart:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.StartRecording(call, user), ct);
                break;
            case RequestTypes.CallRecordStop:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.StopRecording(call, user), ct);
                break;
            case RequestTypes.MediaState:
                outcome = await calls.ChangeAsync(request.CallId, call => CallRules.SetMedia(call, user, request.Audio, request.Video), ct);
                break;
            default:
                Reject(connection, request.Rid, ErrorCodes.UnknownType, $"unknown type '{request.Type}'");
                return;
        }

        if (outcome.Error is not null)
        {
            Reject(connection, request.Rid, outcome.Error, outcome.Message ?? outcome.Error);
            return;
        }

        Ack(connection, request.Rid, callId: outcome.CallId);
    }

    private static void Ack(ClientSession connection, string? rid, long? callId = null, long? id = null)
    {
        if (rid is not null)
        {
            connection.SendAck(new AckMessage(rid, callId, id));
        }
    }

    private void Reject(ClientSession connection, string? rid, string code, string message)
    {
        metrics.RequestRejected(code);
        connection.SendError(rid, code, message);
    }

    private void RateLimited(ClientSession connection, ClientRequest request, RequestKind kind, TimeSpan retryAfter)
    {
        var retryAfterMs = (int)Math.Ceiling(Math.Max(retryAfter.TotalMilliseconds, 1));
        metrics.RequestRejected(ErrorCodes.RateLimited);
        connection.SendError(request.Rid, ErrorCodes.RateLimited, $"{request.Type}: over the per-user limit; retry in {retryAfterMs} ms", retryAfterMs);
        if (connection.FloodGuard.Refused())
        {
            Log.ControlFlooding(logger, connection.Id, connection.UserId, connection.FloodGuard.RefusedInWindow, kind.ToString());
            connection.RequestClose(CloseCodes.Flooding, "flooding: requests far above the limit");
        }
    }

    private void Refuse(ClientSession connection, MediaKind kind, string reason, string code, string message)
    {
        metrics.FrameDropped(kind, reason);
        metrics.RequestRejected(code);
        if (connection.RateLimiter.ShouldReport(code))
        {
            connection.SendError(null, code, message);
        }
    }

    private void Malformed(ClientSession connection, string reason)
    {
        Log.MalformedMessage(logger, connection.Id, connection.UserId, reason);
        connection.RequestClose(CloseCodes.Malformed, $"malformed: {reason}");
    }
}
