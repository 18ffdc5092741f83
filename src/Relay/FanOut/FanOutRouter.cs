using System.Text.Json;
using Microsoft.Extensions.Options;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Routing;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Telemetry;
using PgVideoChat.Relay.Transport;

namespace PgVideoChat.Relay.FanOut;

/// <summary>
/// Hands each event read from the slot to the send queues of this relay's sessions of the users its
/// <see cref="Audience"/> names. It only enqueues, so a slow client never holds up the stream or the others.
/// </summary>
internal sealed class FanOutRouter(SessionRegistry registry, CallDirectory directory, RelayMetrics metrics, FrameDropTally drops, IOptions<RelayOptions> options)
{
    private readonly TimeSpan _staleMedia = options.Value.StaleMediaThreshold;

    public void Presence(PresenceMessage presence)
    {
        ArgumentNullException.ThrowIfNull(presence);
        var message = JsonSerializer.SerializeToUtf8Bytes(presence, ProtocolJsonContext.Default.PresenceMessage);
        foreach (var session in registry.All)
        {
            session.SendControl(message);
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
        foreach (var userId in Audience.Call(call))
        {
            foreach (var session in registry.ForUser(userId))
            {
                session.SendCall(call.CallId, call.Version, message);
            }
        }
    }

    /// <summary>A relay's advice to a sender: to that user's sessions here, while the call is active and the user in it.</summary>
    public void Quality(long callId, long senderId, int level, string reason, string relayId)
    {
        if (directory.Find(callId) is not { State: CallStates.Active } call || !Audience.IsJoined(call, senderId))
        {
            return;
        }

        var message = JsonSerializer.SerializeToUtf8Bytes(MediaQualityMessage.Create(callId, level, reason, relayId), ProtocolJsonContext.Default.MediaQualityMessage);
        foreach (var session in registry.ForUser(senderId))
        {
            session.SendControl(message);
        }
    }

    public void Chat(ChatEntry chat)
    {
        ArgumentNullException.ThrowIfNull(chat);
        var message = JsonSerializer.SerializeToUtf8Bytes(ChatMessage.Create(chat), ProtocolJsonContext.Default.ChatMessage);
        var call = chat.CallId is { } callId ? directory.Find(callId) : null;
        foreach (var userId in Audience.Chat(chat, call))
        {
            foreach (var session in registry.ForUser(userId))
            {
                session.SendChat(chat.Id, message);
            }
        }
    }

    /// <summary>
    /// Where a media row goes, decided once per row before its payload is read: the active call it belongs to, and
    /// whether any other joined participant is connected to this relay. With several relays (fan-out-to-all) most
    /// frames are for someone else's clients: the payload is then skipped rather than copied.
    /// </summary>
    public MediaRoute RouteMedia(long callId, long senderId)
    {
        var call = directory.Find(callId);
        if (call is null || call.State != CallStates.Active)
        {
            // Read anyway: Media() counts it as no_call.
            return new MediaRoute(null, senderId, HasLocalRecipient: true);
        }

        foreach (var userId in Audience.Media(call, senderId))
        {
            if (!registry.ForUser(userId).IsEmpty)
            {
                return new MediaRoute(call, senderId, HasLocalRecipient: true);
            }
        }

        return new MediaRoute(call, senderId, HasLocalRecipient: false);
    }

    /// <summary>
    /// Hands a frame to the other joined participants' queues. Frames committed longer ago than the stale
    /// threshold (catch-up after a restart) are dropped: late video is worse than none.
    /// </summary>
    public void Media(OutboundFrame frame, MediaRoute route, DateTime commitTime)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (DateTime.UtcNow - commitTime > _staleMedia)
        {
            metrics.FrameDropped(frame.Kind, "stale");
            if (route.Call is { } stale)
            {
                // The slot is behind: the sender's frames arrive too late to be worth sending.
                drops.Dropped(stale.CallId, route.SenderId);
            }

            return;
        }

        if (route.Call is not { } call)
        {
            metrics.FrameDropped(frame.Kind, "no_call");
            return;
        }

        var latency = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10 - frame.ReceivedMicros;
        foreach (var userId in Audience.Media(call, route.SenderId))
        {
            foreach (var session in registry.ForUser(userId))
            {
                session.SendFrame(frame);
                metrics.ForwardLatency(frame.Kind, latency / 1e6);
            }
        }
    }
}

/// <summary>A media row's call (null when it is not active here) and whether this relay has a client that receives it.</summary>
internal readonly record struct MediaRoute(CallSnapshot? Call, long SenderId, bool HasLocalRecipient);
