using System.Globalization;
using Npgsql;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// Keeps what recordings need out of frame partitions that are about to be dropped, and frees recordings. The relay
/// writes each frame once (the live partition); a recorded call's rows are copied by the server, in one
/// INSERT … SELECT per recording and partition, when the rotation expires that partition — off the ingest path, and
/// for the recorded calls only. Callers hold the rotation's advisory lock, so copies and drops never race.
/// </summary>
internal static class RecordingArchive
{
    /// <summary>Copies the rows of recorded calls out of <paramref name="partition"/> of <paramref name="table"/>; returns rows copied.</summary>
    public static async Task<long> CopyOutAsync(NpgsqlConnection connection, string table, string partition, long start, long end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (target, copiedUntil, columns) = Shape(table);
        var due = new List<long>();
        await using (var select = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture, $"""
            SELECT id FROM recordings
            WHERE started_at < to_timestamp($2) AND (stopped_at IS NULL OR stopped_at > to_timestamp($1)) AND {copiedUntil} < to_timestamp($2)
            ORDER BY id
            """), connection))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = (double)start });
            select.Parameters.Add(new NpgsqlParameter { Value = (double)end });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add(reader.GetInt64(0));
            }
        }

        long copied = 0;
        foreach (var id in due)
        {
            await EnsurePartitionAsync(connection, target, id, cancellationToken);
            // The rows and the new copied_until commit together, so a retry after a failure copies exactly what the
            // failed attempt did not. The row lock orders the copy with a stop: a stop that commits first is seen here.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM recordings WHERE id = $1 FOR UPDATE", connection, transaction))
            {
                lockRow.Parameters.Add(new NpgsqlParameter { Value = id });
                await lockRow.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var copy = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO {target}_r{id} (recording_id, {columns})
                SELECT r.id, {Prefixed(columns)} FROM {partition} f,
                    (SELECT id, call_id, greatest(started_at, {copiedUntil}) AS since, coalesce(stopped_at, 'infinity') AS until
                     FROM recordings WHERE id = $1) r
                WHERE f.call_id = r.call_id AND f.stored_at >= r.since AND f.stored_at < r.until
                """), connection, transaction))
            {
                copy.Parameters.Add(new NpgsqlParameter { Value = id });
                copied += await copy.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var advance = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture,
                $"UPDATE recordings SET {copiedUntil} = greatest({copiedUntil}, to_timestamp($2)) WHERE id = $1"), connection, transaction))
            {
                advance.Parameters.Add(new NpgsqlParameter { Value = id });
                advance.Parameters.Add(new NpgsqlParameter { Value = (double)end });
                await advance.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return copied;
    }

    /// <summary>Deletes a recording: its partitions are dropped whole, then its row.</summary>
    public static async Task DeleteAsync(NpgsqlConnection connection, long recordingId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        foreach (var parent in (string[])[Tables.RecordedVideoFrames, Tables.RecordedAudioFrames])
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{parent}_r{recordingId}");
            if (await IsPartitionAsync(connection, name, cancellationToken))
            {
                // CONCURRENTLY: a replay reading the parent goes on; a plain DROP would wait for it and stop every
                // reader queued behind its lock.
                await ExecuteAsync(connection, $"ALTER TABLE {parent} DETACH PARTITION {name} CONCURRENTLY", cancellationToken);
            }

            await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {name}", cancellationToken);
        }

        await using var delete = new NpgsqlCommand("DELETE FROM recordings WHERE id = $1", connection);
        delete.Parameters.Add(new NpgsqlParameter { Value = recordingId });
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes the stopped recordings whose retention has run out; returns how many.</summary>
    public static async Task<int> DeleteExpiredAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var expired = new List<long>();
        await using (var select = new NpgsqlCommand("SELECT id FROM recordings WHERE stopped_at IS NOT NULL AND expires_at < now() ORDER BY id LIMIT 100", connection))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                expired.Add(reader.GetInt64(0));
            }
        }

        foreach (var id in expired)
        {
            await DeleteAsync(connection, id, cancellationToken);
        }

        return expired.Count;
    }

    // Created apart and attached, like the live partitions: attaching takes a lock that replays reading the parent
    // do not conflict with, where CREATE TABLE … PARTITION OF would wait for them and block everyone behind it.
    private static async Task EnsurePartitionAsync(NpgsqlConnection connection, string parent, long id, CancellationToken cancellationToken)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{parent}_r{id}");
        if (await IsPartitionAsync(connection, name, cancellationToken))
        {
            return;
        }

        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {name} (LIKE {parent} INCLUDING ALL)", cancellationToken);
        await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES IN ({id})"), cancellationToken);
    }

    private static async Task<bool> IsPartitionAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT relispartition FROM pg_class WHERE oid = to_regclass($1)", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        return await exists.ExecuteScalarAsync(cancellationToken) is true;
    }

    private static (string Target, string CopiedUntil, string Columns) Shape(string table) => table switch
    {
        Tables.VideoFrames => (Tables.RecordedVideoFrames, RecordingColumns.VideoCopiedUntil, "call_id, sender_id, sequence, capture_us, received_us, width, height, payload, stored_at"),
        Tables.AudioFrames => (Tables.RecordedAudioFrames, RecordingColumns.AudioCopiedUntil, "call_id, sender_id, sequence, capture_us, received_us, channels, sample_rate, payload, stored_at"),
        _ => throw new ArgumentException($"{table} is not a frame table", nameof(table)),
    };

    private static string Prefixed(string columns) => string.Join(", ", columns.Split(", ").Select(static c => "f." + c));

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
