namespace PgVideoChat.Protocol;

/// <summary>What makes a client's media frame well-formed (docs/protocol.md, section 4).</summary>
public static class MediaFrameRules
{
    /// <summary>Returns why the frame is malformed, or <see langword="null"/> when it is well-formed.</summary>
    public static string? Validate(in MediaFrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Kind)
        {
            case MediaKind.Video:
                if (payload.Length == 0)
                {
                    return "a video frame needs a JPEG payload";
                }

                if (payload.Length > ProtocolLimits.MaxVideoFrameBytes)
                {
                    return $"a video frame may carry at most {ProtocolLimits.MaxVideoFrameBytes} bytes";
                }

                if (payload.Length < 2 || payload[0] != 0xFF || payload[1] != 0xD8)
                {
                    return "a video payload must be a JPEG image (starting with FF D8)";
                }

                if (header.Width == 0 || header.Height == 0)
                {
                    return "a video frame needs a width and a height";
                }

                return null;

            case MediaKind.Audio:
                if (header.Channels is not (1 or 2))
                {
                    return "audio must have 1 or 2 channels";
                }

                if (header.SampleRate is < ProtocolLimits.MinAudioSampleRate or > ProtocolLimits.MaxAudioSampleRate)
                {
                    return $"the audio sample rate must be within {ProtocolLimits.MinAudioSampleRate}..{ProtocolLimits.MaxAudioSampleRate} Hz";
                }

                if (payload.Length == 0 || payload.Length > ProtocolLimits.MaxAudioFrameBytes)
                {
                    return $"an audio frame must carry 1..{ProtocolLimits.MaxAudioFrameBytes} bytes";
                }

                if (payload.Length % (2 * header.Channels) != 0)
                {
                    return "an audio payload must hold whole 16-bit samples for every channel";
                }

                return null;

            default:
                return $"unknown media kind {(byte)header.Kind}";
        }
    }
}
