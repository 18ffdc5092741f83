namespace PgVideoChat.Relay.Schema;

// The columns the relay reads from its slot and writes in frame batches, named once (the migrations create them;
// tests/Relay.UnitTests checks each against its table). Statements elsewhere are SQL text, checked by running them.

/// <summary>The columns both frame tables have.</summary>
internal static class FrameColumns
{
    public const string CallId = "call_id";
    public const string SenderId = "sender_id";
    public const string Sequence = "sequence";
    public const string CaptureUs = "capture_us";
    public const string ReceivedUs = "received_us";
    public const string Payload = "payload";

    /// <summary>A bit per relay shard that has a recipient of the frame (shard routing's row filter reads it).</summary>
    public const string RecipientShardMask = "recipient_shards";
}

/// <summary>The columns only <see cref="Tables.VideoFrames"/> has.</summary>
internal static class VideoFrameColumns
{
    public const string Width = "width";
    public const string Height = "height";
}

/// <summary>The columns only <see cref="Tables.AudioFrames"/> has.</summary>
internal static class AudioFrameColumns
{
    public const string Channels = "channels";
    public const string SampleRate = "sample_rate";
}

/// <summary>The columns of <see cref="Tables.ChatMessages"/>.</summary>
internal static class ChatColumns
{
    public const string Id = "id";
    public const string CallId = "call_id";
    public const string ToUser = "to_user";
    public const string FromUser = "from_user";
    public const string FromName = "from_name";
    public const string Body = "body";
    public const string ClientMsgId = "client_msg_id";
    public const string SentAt = "sent_at";
}

/// <summary>The columns of <see cref="Tables.Calls"/>.</summary>
internal static class CallColumns
{
    public const string Id = "id";
    public const string Kind = "kind";
    public const string State = "state";
    public const string CreatedBy = "created_by";
    public const string Version = "version";
    public const string Participants = "participants";
    public const string UpdatedAt = "updated_at";

    /// <summary>Who records the call since when (JSON), or NULL.</summary>
    public const string Recording = "recording";
}

/// <summary>The columns of <see cref="Tables.Presence"/>.</summary>
internal static class PresenceColumns
{
    public const string UserId = "user_id";
    public const string DisplayName = "display_name";
    public const string Online = "online";
}

/// <summary>The columns of <see cref="Tables.Connections"/> that shard routing reads.</summary>
internal static class ConnectionColumns
{
    public const string UserId = "user_id";
    public const string RelayShard = "relay_shard";
}

/// <summary>The columns of <see cref="Tables.MediaQuality"/>: a relay's advice to one sender in one call.</summary>
internal static class MediaQualityColumns
{
    public const string CallId = "call_id";
    public const string SenderId = "sender_id";
    public const string RelayId = "relay_id";
    public const string Level = "level";
    public const string Reason = "reason";
}

/// <summary>The columns of <see cref="Tables.Recordings"/>.</summary>
internal static class RecordingColumns
{
    public const string Id = "id";
    public const string CallId = "call_id";
    public const string StartedBy = "started_by";
    public const string StartedAt = "started_at";
    public const string StoppedBy = "stopped_by";
    public const string StoppedAt = "stopped_at";
    public const string VideoCopiedUntil = "video_copied_until";
    public const string AudioCopiedUntil = "audio_copied_until";
    public const string ExpiresAt = "expires_at";
}
