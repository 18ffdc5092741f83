using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests;

/// <summary>Frames with recognisable content for tests.</summary>
internal static class TestMedia
{
    public static long NowMicros => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>A JPEG-shaped payload (SOI … EOI) whose bytes encode <paramref name="marker"/>.</summary>
    public static byte[] Jpeg(int size, int marker)
    {
        var payload = new byte[size];
        new Random(marker).NextBytes(payload);
        payload[0] = 0xFF;
        payload[1] = 0xD8;
        payload[^2] = 0xFF;
        payload[^1] = 0xD9;
        BitConverter.TryWriteBytes(payload.AsSpan(2), marker);
        return payload;
    }

    public static int MarkerOf(byte[] payload) => BitConverter.ToInt32(payload, 2);

    public static MediaFrameHeader Video(long callId, uint sequence) => MediaFrameHeader.Video(sequence, callId, NowMicros, 640, 360);

    public static MediaFrameHeader Audio(long callId, uint sequence) => MediaFrameHeader.Audio(sequence, callId, NowMicros, 1, 24000);

    /// <summary>40 ms of 24 kHz mono PCM16.</summary>
    public static byte[] Pcm(int marker)
    {
        var payload = new byte[1920];
        BitConverter.TryWriteBytes(payload, marker);
        return payload;
    }
}
