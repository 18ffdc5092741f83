namespace PgVideoChat.Relay.Schema;

/// <summary>The tables the relay reads and writes (src/Relay/Storage/Migrations creates them).</summary>
internal static class Tables
{
    public const string Users = "users";
    public const string Connections = "connections";
    public const string Presence = "presence";
    public const string Calls = "calls";
    public const string CallParticipants = "call_participants";
    public const string ChatMessages = "chat_messages";
    public const string VideoFrames = "video_frames";
    public const string AudioFrames = "audio_frames";
    public const string RelayInstances = "relay_instances";
    public const string MediaQuality = "media_quality";
    public const string Recordings = "recordings";
    public const string RecordedVideoFrames = "recorded_video_frames";
    public const string RecordedAudioFrames = "recorded_audio_frames";

    /// <summary>The partitioned frame tables, rotated by <c>FramePartitions</c>.</summary>
    public static readonly string[] Frames = [VideoFrames, AudioFrames];

    /// <summary>The tables whose rows reach a relay through its slot (the <see cref="Publications.All"/> publication).</summary>
    public static readonly string[] Replicated = [VideoFrames, AudioFrames, ChatMessages, Calls, Presence, MediaQuality];
}

/// <summary>
/// The publications a relay's slot reads. The migrations create the first two under these names
/// (tests/Relay.UnitTests checks that they do); shard routing creates one media publication per shard.
/// </summary>
internal static class Publications
{
    /// <summary>Every replicated table: what a relay reads without shard routing.</summary>
    public const string All = "pgvideochat";

    /// <summary>Presence, calls, chat, connections and quality advice: what a sharded relay reads besides its media publication.</summary>
    public const string Control = "pgvideochat_control";

    /// <summary>Followed by the shard number: the frames addressed to one shard (a row filter on <c>recipient_shards</c>).</summary>
    public const string MediaPrefix = "pgvideochat_media_";
}

/// <summary>
/// The relay's advisory-lock keys, one scheme for all: the bytes of "PgVCha" and then "t" plus a purpose number,
/// so that they are recognisable in <c>pg_locks</c> and cannot collide with each other.
/// </summary>
internal static class AdvisoryLocks
{
    public const long SchemaMigration = 0x5067_5643_6861_7401;
    public const long FramePartitionRotation = 0x5067_5643_6861_7402;
    public const long AbandonedSlotSweep = 0x5067_5643_6861_7403;
    public const long ShardPublicationSetup = 0x5067_5643_6861_7404;
}
