using System.Text.Json;
using Npgsql;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// The recordings a user may see: those of calls the user took part in (joined, whether or not they left since).
/// Anyone else is told that the recording does not exist, so an id reveals nothing.
/// </summary>
internal sealed class RecordingStore(NpgsqlDataSource dataSource)
{
    // The size is that of the recording's own partitions (tables, TOAST, indexes), read from the catalog, plus the
    // payloads of its last seconds that are still in the live partitions (not copied yet, or still being recorded):
    // a recording stopped a moment ago is not listed as empty. The live part is a few seconds of one call.
    private const string SummarySql = """
        SELECT r.id, r.call_id, r.started_by, su.display_name, r.started_at, r.stopped_at, r.expires_at,
            (extract(epoch FROM coalesce(r.stopped_at, now()) - r.started_at) * 1000)::bigint,
            coalesce(pg_total_relation_size(to_regclass('recorded_video_frames_r' || r.id)), 0)
                + coalesce(pg_total_relation_size(to_regclass('recorded_audio_frames_r' || r.id)), 0)
                + CASE WHEN r.video_copied_until < coalesce(r.stopped_at, 'infinity') THEN
                      (SELECT coalesce(sum(octet_length(f.payload)), 0) FROM video_frames f
                       WHERE f.call_id = r.call_id AND f.stored_at >= greatest(r.started_at, r.video_copied_until)
                           AND f.stored_at < coalesce(r.stopped_at, 'infinity')) ELSE 0 END
                + CASE WHEN r.audio_copied_until < coalesce(r.stopped_at, 'infinity') THEN
                      (SELECT coalesce(sum(octet_length(f.payload)), 0) FROM audio_frames f
                       WHERE f.call_id = r.call_id AND f.stored_at >= greatest(r.started_at, r.audio_copied_until)
                           AND f.stored_at < coalesce(r.stopped_at, 'infinity')) ELSE 0 END,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('userId', p.user_id, 'displayName', u.display_name) ORDER BY p.user_id), '[]')::text
             FROM call_participants p JOIN users u ON u.id = p.user_id
             WHERE p.call_id = r.call_id AND p.state IN ('joined', 'left'))
        FROM recordings r JOIN users su ON su.id = r.started_by
        WHERE EXISTS (SELECT 1 FROM call_participants me
                      WHERE me.call_id = r.call_id AND me.user_id = $1 AND me.state IN ('joined', 'left'))
        """;

    public async Task<IReadOnlyList<RecordingSummary>> ListAsync(long userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SummarySql + " ORDER BY r.id DESC LIMIT 200");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The recording, or null when it does not exist or the user did not take part in its call.</summary>
    public async Task<RecordingSummary?> FindAsync(long recordingId, long userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SummarySql + " AND r.id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = recordingId });
        var found = await ReadAsync(command, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    private static async Task<List<RecordingSummary>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var list = new List<RecordingSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new RecordingSummary(
                reader.GetInt64(0),
                reader.GetInt64(1),
                new UserSummary(reader.GetInt64(2), reader.GetString(3)),
                Utc(reader.GetDateTime(4)),
                reader.IsDBNull(5) ? null : Utc(reader.GetDateTime(5)),
                reader.IsDBNull(5),
                Math.Max(0, reader.GetInt64(7)),
                reader.GetInt64(8),
                JsonSerializer.Deserialize(reader.GetString(9), RecordingJsonContext.Default.ListUserSummary) ?? [],
                Utc(reader.GetDateTime(6))));
        }

        return list;
    }

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
