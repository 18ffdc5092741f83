namespace PgVideoChat.Protocol;

/// <summary>The kind byte of a media frame's header.</summary>
public enum MediaKind : byte
{
    /// <summary>One JPEG image.</summary>
    Video = 1,

    /// <summary>PCM signed 16-bit little-endian samples, interleaved.</summary>
    Audio = 2,
}
