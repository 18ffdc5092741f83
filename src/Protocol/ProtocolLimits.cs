namespace PgVideoChat.Protocol;

/// <summary>The limits of protocol version 1 (docs/protocol.md).</summary>
public static class ProtocolLimits
{
    public const int ProtocolVersion = 1;
    public const int MaxTextMessageBytes = 64 * 1024;
    public const int MaxVideoFrameBytes = 256 * 1024;
    public const int MaxAudioFrameBytes = 16 * 1024;
    public const int MaxVideoFps = 30;
    public const int MaxAudioFps = 60;
    public const int MaxCallParticipants = 8;

    /// <summary>The most callees one <c>call.invite</c> names: everyone but the caller.</summary>
    public const int MaxInvitees = MaxCallParticipants - 1;

    public const int MaxChatTextLength = 4000;
    public const int MaxDisplayNameLength = 64;
    public const int MaxRequestIdLength = 64;
    public const int MaxClientMessageIdLength = 64;
    public const int MinAudioSampleRate = 8000;
    public const int MaxAudioSampleRate = 48000;

    /// <summary>Objects and arrays nest at most this deep in a control message (the messages need 3).</summary>
    public const int MaxJsonDepth = 8;

    /// <summary>Ids stay below 2^53 so that JavaScript holds them exactly.</summary>
    public const long MaxId = (1L << 53) - 1;

    /// <summary>The chat messages in <c>hello</c>, and the most a <c>chat.history</c> page returns.</summary>
    public const int MaxChatHistoryPage = 100;

    public const int DefaultChatHistoryPage = 50;

    /// <summary>The largest binary message a client may send: header plus the largest payload.</summary>
    public const int MaxBinaryMessageBytes = MediaFrameHeader.Size + MaxVideoFrameBytes;
}
