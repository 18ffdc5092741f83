namespace PgVideoChat.Protocol;

/// <summary>WebSocket close codes of protocol version 1 (docs/protocol.md, section 5).</summary>
public static class CloseCodes
{
    public const int Normal = 1000;
    public const int GoingAway = 1001;
    public const int InternalError = 1011;
    public const int Malformed = 4400;
    public const int Unauthorized = 4401;
    public const int TooSlow = 4408;
    public const int TooLarge = 4413;
    public const int Flooding = 4429;
    public const int DatabaseUnavailable = 4503;
}
