using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings;

/// <summary>One recording as <c>GET /api/recordings</c> lists it (docs/recordings.md).</summary>
internal sealed record RecordingSummary(
    long Id,
    long CallId,
    UserSummary StartedBy,
    DateTime StartedAt,
    DateTime? StoppedAt,
    bool Active,
    long DurationMs,
    long Bytes,
    IReadOnlyList<UserSummary> Participants,
    DateTime ExpiresAt);

/// <summary><c>GET /api/recordings</c> response.</summary>
internal sealed record RecordingList(IReadOnlyList<RecordingSummary> Recordings);

/// <summary><c>POST /api/recordings/{id}/export</c> response: a link that needs no Authorization header.</summary>
internal sealed record ExportLink(string Url, DateTime ExpiresAt);
