using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Limits;

/// <summary>Which budget a control request draws on, and how much of it.</summary>
internal static class RequestLimits
{
    /// <summary>The budget and cost of a request; null for one that writes nothing and notifies nobody (<c>ping</c>).</summary>
    public static (RequestKind Kind, int Cost)? Of(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Type switch
        {
            RequestTypes.ChatSend => (RequestKind.Chat, 1),
            // Every invitee's phone rings: the cost is the number of people rung.
            RequestTypes.CallInvite => (RequestKind.Ring, request.Invitees.Count),
            RequestTypes.CallAdd => (RequestKind.Ring, 1),
            RequestTypes.CallAccept or RequestTypes.CallDecline or RequestTypes.CallHangup or RequestTypes.MediaState
                or RequestTypes.CallRecordStart or RequestTypes.CallRecordStop => (RequestKind.CallChange, 1),
            RequestTypes.ChatHistory => (RequestKind.History, 1),
            _ => null,
        };
    }
}
