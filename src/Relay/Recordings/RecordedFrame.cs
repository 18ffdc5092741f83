using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// One frame of a recording as its readers see it, without the payload: <paramref name="TimeMicros"/> is the frame's
/// place on the recording's timeline (microseconds since the recording started, by the relay's clock when it received
/// the frame), <paramref name="Length"/> the payload's size. Video: <paramref name="A"/> width, <paramref name="B"/>
/// height; audio: <paramref name="A"/> channels, <paramref name="B"/> sample rate.
/// </summary>
internal readonly record struct RecordedFrameInfo(MediaKind Kind, long SenderId, long TimeMicros, int Length, int A, int B);

/// <summary>A recorded frame with its payload (a JPEG image, or PCM signed 16-bit little-endian interleaved).</summary>
internal readonly record struct RecordedFrame(RecordedFrameInfo Info, ReadOnlyMemory<byte> Payload);
