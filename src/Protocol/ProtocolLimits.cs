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
    public const int MaxChatTextLength = 4000;
    public const int MaxDisplayNameLength = 64;
    public const int MaxRequestIdLength = 64;
    public const int MaxClientMessageIdLength = 64;
    public const int MinAudioSampleRate = 8000;
    public const int MaxAudioSampleRate = 48000;

    /// <summary>The largest binary message a client may send: header plus the largest payload.</summary>
    public const int MaxBinaryMessageBytes = MediaFrameHeader.Size + MaxVideoFrameBytes;
}
