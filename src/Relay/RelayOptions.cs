using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace PgVideoChat.Relay;

/// <summary>The relay's settings (configuration section <c>Relay</c>), validated at start.</summary>
internal sealed class RelayOptions
{
    public const string SectionName = "Relay";

    /// <summary>This instance's id; its replication slot is named after it and it must stay stable across restarts.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,40}$", ErrorMessage = "Relay:InstanceId must be 1-40 letters, digits, '-' or '_'.")]
    public string InstanceId { get; set; } = "relay-0";

    /// <summary>Origins whose pages may open a WebSocket and call the sign-in endpoint.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>pgoutput protocol version (PG15 accepts 1-3); rows are always requested in binary.</summary>
    [Range(1, 3)]
    public int PgOutputProtocolVersion { get; set; } = 2;

    /// <summary>
    /// How long frames are kept at least (whole partitions are dropped after it). With the partition width, a frame
    /// lives 5-12.5 s by default, like the canonical relay's ~5 s, and its pages die in the AppHost Postgres's
    /// shared_buffers instead of being written out a second time on eviction (docs/benchmarks.md, "Frames that die in
    /// shared_buffers"). Keep frames longer and size shared_buffers with them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan FrameRetention { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The width of one frame partition.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan FramePartitionWidth { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Media committed longer ago than this is not forwarded (catch-up after a restart).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StaleMediaThreshold { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary><c>/health</c> turns unhealthy when the slot lags more than this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaxSlotLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the relay confirms its LSN to Postgres (Npgsql's default is 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A ringing call nobody answers within this becomes <c>missed</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RingTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>A relay instance whose heartbeat is older than this is gone: the watchdog drops its slot and connections.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "30.00:00:00")]
    public TimeSpan AbandonedAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the slot watchdog looks for abandoned relay instances.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan WatchdogInterval { get; set; } = TimeSpan.FromSeconds(30);

    [Required]
    [ValidateObjectMembers]
    public AuthOptions Auth { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public FanOutOptions FanOut { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public Quality.QualityOptions Quality { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public IngestOptions Ingest { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public Recordings.RecordingOptions Recordings { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public Sharding.ShardingOptions Sharding { get; set; } = new();

    [Required]
    [ValidateObjectMembers]
    public Limits.RequestLimitOptions Limits { get; set; } = new();

    /// <summary>A joined participant of an active call who has been offline this long leaves it (as if they hung up).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AbandonedParticipantAfter { get; set; } = TimeSpan.FromSeconds(60);
}

internal sealed class AuthOptions
{
    /// <summary>HMAC-SHA256 key for session tokens; the AppHost generates one per run.</summary>
    [Required(ErrorMessage = "Relay:Auth:SigningKey is required (the AppHost sets it; otherwise set Relay__Auth__SigningKey to 32+ random characters).")]
    [MinLength(32, ErrorMessage = "Relay:Auth:SigningKey must have at least 32 characters.")]
    public string SigningKey { get; set; } = string.Empty;

    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);
}

internal sealed class FanOutOptions
{
    /// <summary>Video frames queued per connection before the oldest are dropped (2 s at 15 fps: one commit can deliver a burst).</summary>
    [Range(1, 1000)]
    public int VideoQueueFrames { get; set; } = 30;

    /// <summary>Audio frames queued per connection before the oldest are dropped.</summary>
    [Range(1, 1000)]
    public int AudioQueueFrames { get; set; } = 50;

    /// <summary>Control messages queued per connection before the client is disconnected as too slow (4408).</summary>
    [Range(1, 100_000)]
    public int ControlQueueMessages { get; set; } = 1000;

    /// <summary>A single send that takes longer than this closes the connection as too slow.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The kernel's send buffer of each client's TCP socket, in bytes; 0 leaves the kernel's autotuning (on Linux up to
    /// <c>net.ipv4.tcp_wmem</c>'s maximum, 4 MB). What waits there cannot be dropped for fresher frames: a slow reader
    /// backs frames up in the kernel first (seconds of delay) and only then in the send queue, where drops start and
    /// its senders are stepped down (docs/notes/adaptive-quality.md).
    /// </summary>
    [Range(0, 64 * 1024 * 1024)]
    public int SocketSendBufferBytes { get; set; }
}

internal sealed class IngestOptions
{
    /// <summary>
    /// Frames waiting for the write pipeline; beyond it a new frame pushes out the oldest one waiting in its lane
    /// (<c>ingest_stale</c>): in a real-time stream the newest frame is the one worth writing.
    /// </summary>
    [Range(1, 1_000_000)]
    public int QueueFrames { get; set; } = 2048;

    /// <summary>
    /// A frame that waited longer than this for the writer (Postgres stalled: a slow WAL flush, a lock) is dropped
    /// unwritten (<c>ingest_stale</c>) instead of being written late, so the pipeline catches up at once when the stall
    /// ends and receivers get fresh frames rather than a second of old ones.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan MaxFrameAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Payload bytes waiting for the write pipeline; beyond it frames are refused (<c>ingest_full</c>), so a database outage cannot grow memory.</summary>
    [Range(1, int.MaxValue)]
    public int QueueBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Write lanes (connections with a batch in flight at once); a call's frames always take the same lane.</summary>
    [Range(1, 16)]
    public int Writers { get; set; } = 1;

    /// <summary>The most frames written in one round trip.</summary>
    [Range(1, 10_000)]
    public int MaxBatchFrames { get; set; } = 128;

    /// <summary>
    /// Under load (four or more frames waited for the writer) the writer waits up to this long for a batch of
    /// <see cref="LingerBatchFrames"/>: fewer, bigger commits. Zero turns it off; a lone frame never waits.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.100")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The batch size at which a lingering writer stops waiting.</summary>
    [Range(1, 10_000)]
    public int LingerBatchFrames { get; set; } = 32;

    /// <summary>The most payload bytes written in one round trip.</summary>
    [Range(1, 1_073_741_824)]
    public int MaxBatchBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How a batch reaches Postgres: <c>Copy</c> (binary COPY, one per table, in one transaction) or <c>Insert</c> (one prepared INSERT per frame, pipelined in one round trip).</summary>
    public IngestWriteMethod WriteMethod { get; set; } = IngestWriteMethod.Insert;
}

/// <summary>See <see cref="IngestOptions.WriteMethod"/>; docs/benchmarks.md compares the two.</summary>
internal enum IngestWriteMethod
{
    Copy,
    Insert,
}
