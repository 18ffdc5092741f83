namespace PgVideoChat.Relay.Schema;

/// <summary>
/// The statements that publish a frame: the relay's write pipeline issues them, and the load runner's substrate
/// baseline (which compiles this file too) issues the same ones, so the baseline measures the rows the relay writes.
/// Parameters and COPY columns, in order: call id, sender id, sequence, capture µs, received µs, width or channels,
/// height or sample rate, payload, recipient shards.
/// </summary>
internal static class FrameSql
{
    public const int Columns = 9;

    private const string VideoColumns = "call_id, sender_id, sequence, capture_us, received_us, width, height, payload, recipient_shards";
    private const string AudioColumns = "call_id, sender_id, sequence, capture_us, received_us, channels, sample_rate, payload, recipient_shards";

    public const string InsertVideo = $"INSERT INTO video_frames ({VideoColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    public const string InsertAudio = $"INSERT INTO audio_frames ({AudioColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    public const string CopyVideo = $"COPY video_frames ({VideoColumns}) FROM STDIN (FORMAT BINARY)";
    public const string CopyAudio = $"COPY audio_frames ({AudioColumns}) FROM STDIN (FORMAT BINARY)";

    /// <summary>Every relay receives the row (no shard routing).</summary>
    public const long EveryShard = -1;
}
