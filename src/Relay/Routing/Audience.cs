using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Routing;

/// <summary>
/// Who receives a row, for every kind of row the slot carries: the one rule that fan-out delivers by and that ingest
/// names a frame's relay shards by. Pure: it looks only at the row and the call it belongs to. (A <c>presence</c>
/// row goes to everyone online, which needs no rule.)
/// </summary>
internal static class Audience
{
    /// <summary>A <c>calls</c> row goes to every participant whatever their state: invitees see the ring, those who left see the end.</summary>
    public static Recipients Call(CallSnapshot call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return Recipients.Participants(call.Participants, RecipientRule.AllParticipants, 0);
    }

    /// <summary>A media frame goes to the other joined participants of an active call, and nowhere otherwise.</summary>
    public static Recipients Media(CallSnapshot call, long senderId)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.State == CallStates.Active
            ? Recipients.Participants(call.Participants, RecipientRule.JoinedExceptSender, senderId)
            : Recipients.None;
    }

    /// <summary>
    /// A chat row: a direct message goes to its two users (once when sent to oneself); call chat goes to the call's
    /// joined participants and to its sender, who sees their own message even if they left meanwhile. Call chat whose
    /// call is unknown here goes nowhere.
    /// </summary>
    public static Recipients Chat(ChatEntry chat, CallSnapshot? call)
    {
        ArgumentNullException.ThrowIfNull(chat);
        if (chat.To is { } to)
        {
            return Recipients.Pair(chat.From, to);
        }

        return chat.CallId is not null && call is not null
            ? Recipients.Participants(call.Participants, RecipientRule.JoinedOrSender, chat.From)
            : Recipients.None;
    }

    /// <summary>Whether <paramref name="userId"/> is a joined participant of <paramref name="call"/> (may send media and chat into it).</summary>
    public static bool IsJoined(CallSnapshot call, long userId)
    {
        ArgumentNullException.ThrowIfNull(call);
        foreach (var participant in call.Participants)
        {
            if (participant.UserId == userId)
            {
                return participant.State == ParticipantStates.Joined;
            }
        }

        return false;
    }
}
