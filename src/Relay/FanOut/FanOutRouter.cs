using System.Text.Json;
using Microsoft.Extensions.Options;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Connections;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.FanOut;

/// <summary>
/// Routes each event read from the slot to the queues of the connected clients it is addressed to: presence to
/// everyone, a call to its participants, call chat to the call's joined participants, a direct message to its
/// two users, media to the other joined participants of an active call. It only enqueues, so a slow client
/// never holds up the stream or the others.
/// </summary>
internal sealed class FanOutRouter(ConnectionRegistry registry, CallDirectory directory, RelayMetrics metrics, IOptions<RelayOptions> options)
{
    private readonly TimeSpan _staleMedia = options.Value.StaleMediaThreshold;

    public void Presence(PresenceMessage presence)
    {
        ArgumentNullException.ThrowIfNull(presence);
        var message = JsonSerializer.SerializeToUtf8Bytes(presence, ProtocolJsonContext.Default.PresenceMessage);
        foreach (var connection in registry.All)
        {
            connection.EnqueueControl(message);
        }
    }

    public void Call(CallSnapshot call)
    {
        ArgumentNullException.ThrowIfNull(call);
        directory.Apply(call);
        if (call.Participants.Count == 0)
        {
            return;
        }

        var message = JsonSerializer.SerializeToUtf8Bytes(CallMessage.Create(call), ProtocolJsonContext.Default.CallMessage);
        foreach (var participant in call.Participants)
        {
            foreach (var connection in registry.ForUser(participant.UserId))
            {
                connection.SendCall(call.CallId, call.Version, message);
            }
        }
    }

    public void Chat(ChatEntry chat)
    {
        ArgumentNullException.ThrowIfNull(chat);
        var message = JsonSerializer.SerializeToUtf8Bytes(ChatMessage.Create(chat), ProtocolJsonContext.Default.ChatMessage);
        if (chat.To is { } to)
        {
            SendChat(chat.From, chat.Id, message);
            if (to != chat.From)
            {
                SendChat(to, chat.Id, message);
            }

            return;
        }

        if (chat.CallId is { } callId && directory.Find(callId) is { } call)
        {
            foreach (var participant in call.Participants)
            {
                if (participant.State == ParticipantStates.Joined || participant.UserId == chat.From)
                {
                    SendChat(participant.UserId, chat.Id, message);
                }
            }
        }
    }

    /// <summary>
    /// Whether any other joined participant of the active call is connected to this relay. With several relays every
    /// relay receives every row, and most frames are for someone else's clients: the payload is then skipped
    /// rather than copied.
    /// </summary>
    public bool HasLocalRecipient(long callId, long senderId)
    {
        var call = directory.Find(callId);
        if (call is null || call.State != CallStates.Active)
        {
            // Media() counts it as no_call.
            return true;
        }

        foreach (var participant in call.Participants)
        {
            if (participant.UserId != senderId && participant.State == ParticipantStates.Joined && !registry.ForUser(participant.UserId).IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Hands a frame to the other joined participants' queues. Frames committed longer ago than the stale
    /// threshold (catch-up after a restart) are dropped: late video is worse than none.
    /// </summary>
    public void Media(OutboundFrame frame, long callId, long senderId, DateTime commitTime)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (DateTime.UtcNow - commitTime > _staleMedia)
        {
            metrics.FrameDropped(frame.Kind, "stale");
            return;
        }

        var call = directory.Find(callId);
        if (call is null || call.State != CallStates.Active)
        {
            metrics.FrameDropped(frame.Kind, "no_call");
            return;
        }

        var latency = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10 - frame.ReceivedMicros;
        foreach (var participant in call.Participants)
        {
            if (participant.UserId == senderId || participant.State != ParticipantStates.Joined)
            {
                continue;
            }

            foreach (var connection in registry.ForUser(participant.UserId))
            {
                connection.EnqueueFrame(frame);
                metrics.ForwardLatency(frame.Kind, latency / 1e6);
            }
        }
    }

    private void SendChat(long userId, long chatId, byte[] message)
    {
        foreach (var connection in registry.ForUser(userId))
        {
            connection.SendChat(chatId, message);
        }
    }
}
