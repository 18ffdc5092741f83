namespace PgVideoChat.Protocol;

/// <summary>The <c>code</c> values of <c>error</c> messages (docs/protocol.md, section 3).</summary>
public static class ErrorCodes
{
    public const string InvalidMessage = "invalid_message";
    public const string UnknownType = "unknown_type";
    public const string NotFound = "not_found";
    public const string NotParticipant = "not_participant";
    public const string InvalidState = "invalid_state";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
}
