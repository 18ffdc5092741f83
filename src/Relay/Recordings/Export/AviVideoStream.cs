namespace PgVideoChat.Relay.Recordings.Export;

/// <summary>
/// A sender's Motion-JPEG stream: the size of the sender's first picture (the stream header's; later pictures may
/// differ, each JPEG carries its own), and the largest JPEG it holds (the header's suggested buffer size).
/// </summary>
internal sealed record AviVideoStream(long SenderId, int Width, int Height, int MaxFrameBytes);
