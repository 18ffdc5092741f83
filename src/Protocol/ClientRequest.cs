namespace PgVideoChat.Protocol;

/// <summary>The control message types a client may send.</summary>
public static class RequestTypes
{
    public const string CallInvite = "call.invite";
    public const string CallAdd = "call.add";
    public const string CallAccept = "call.accept";
    public const string CallDecline = "call.decline";
    public const string CallHangup = "call.hangup";
    public const string MediaState = "media.state";
    public const string CallRecordStart = "call.record.start";
    public const string CallRecordStop = "call.record.stop";
    public const string ChatSend = "chat.send";
    public const string ChatHistory = "chat.history";
    public const string Ping = "ping";
}

/// <summary>A parsed client → relay control message; which fields are set depends on <see cref="Type"/>.</summary>
public sealed record ClientRequest(string Type, string? Rid)
{
    public long CallId { get; init; }

    public long UserId { get; init; }

    /// <summary><c>call.invite</c>: the callees.</summary>
    public IReadOnlyList<long> Invitees { get; init; } = [];

    /// <summary><c>chat.send</c>: the recipient of a direct message; <c>chat.history</c>: the other user of a direct conversation.</summary>
    public long? To { get; init; }

    public string? Text { get; init; }

    public string? ClientMsgId { get; init; }

    public bool Audio { get; init; }

    public bool Video { get; init; }

    /// <summary><c>chat.history</c>: only messages with a smaller id (older); null for the newest.</summary>
    public long? Before { get; init; }

    /// <summary><c>chat.history</c>: the page size.</summary>
    public int Limit { get; init; }
}
