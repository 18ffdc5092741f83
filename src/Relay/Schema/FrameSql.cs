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

    private const string Leading = $"{FrameColumns.CallId}, {FrameColumns.SenderId}, {FrameColumns.Sequence}, {FrameColumns.CaptureUs}, {FrameColumns.ReceivedUs}";
    private const string Trailing = $"{FrameColumns.Payload}, {FrameColumns.RecipientShardMask}";
    private const string VideoColumns = $"{Leading}, {VideoFrameColumns.Width}, {VideoFrameColumns.Height}, {Trailing}";
    private const string AudioColumns = $"{Leading}, {AudioFrameColumns.Channels}, {AudioFrameColumns.SampleRate}, {Trailing}";

    public const string InsertVideo = $"INSERT INTO {Tables.VideoFrames} ({VideoColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    public const string InsertAudio = $"INSERT INTO {Tables.AudioFrames} ({AudioColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    public const string CopyVideo = $"COPY {Tables.VideoFrames} ({VideoColumns}) FROM STDIN (FORMAT BINARY)";
    public const string CopyAudio = $"COPY {Tables.AudioFrames} ({AudioColumns}) FROM STDIN (FORMAT BINARY)";

    /// <summary>Every relay receives the row (no shard routing).</summary>
    public const long EveryShard = -1;
}
