namespace PgVideoChat.Protocol;

/// <summary>Why a client's media frame is refused; <see cref="TooLarge"/> faults close with 4413, the others with 4400.</summary>
public readonly record struct MediaFrameFault(string Reason, bool TooLarge);

/// <summary>What makes a client's media frame well-formed (docs/protocol.md, section 4).</summary>
public static class MediaFrameRules
{
    /// <summary>Returns why the frame is refused, or <see langword="null"/> when it is well-formed.</summary>
    public static MediaFrameFault? Check(in MediaFrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Kind)
        {
            case MediaKind.Video:
                if (payload.Length > ProtocolLimits.MaxVideoFrameBytes)
                {
                    return new($"a video frame may carry at most {ProtocolLimits.MaxVideoFrameBytes} bytes", TooLarge: true);
                }

                if (payload.Length < 2 || payload[0] != 0xFF || payload[1] != 0xD8)
                {
                    return Malformed("a video payload must be a JPEG image (starting with FF D8)");
                }

                if (header.Width == 0 || header.Height == 0)
                {
                    return Malformed("a video frame needs a width and a height");
                }

                return null;

            case MediaKind.Audio:
                if (payload.Length > ProtocolLimits.MaxAudioFrameBytes)
                {
                    return new($"an audio frame may carry at most {ProtocolLimits.MaxAudioFrameBytes} bytes", TooLarge: true);
                }

                if (header.Channels is not (1 or 2))
                {
                    return Malformed("audio must have 1 or 2 channels");
                }

                if (header.SampleRate is < ProtocolLimits.MinAudioSampleRate or > ProtocolLimits.MaxAudioSampleRate)
                {
                    return Malformed($"the audio sample rate must be within {ProtocolLimits.MinAudioSampleRate}..{ProtocolLimits.MaxAudioSampleRate} Hz");
                }

                if (payload.Length == 0 || payload.Length % (2 * header.Channels) != 0)
                {
                    return Malformed("an audio payload must hold one or more whole 16-bit samples for every channel");
                }

                return null;

            default:
                return Malformed($"unknown media kind {(byte)header.Kind}");
        }
    }

    private static MediaFrameFault Malformed(string reason) => new(reason, TooLarge: false);
}
