using System.Diagnostics;
using System.Globalization;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Recordings;
using PgVideoChat.Relay.Schema;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Storage;

/// <summary>
/// Retention for the insert-only frame tables: time partitions are created ahead of time and whole partitions
/// older than the retention window are detached and dropped — no DELETE, no dead tuples, no vacuum. With
/// <paramref name="metrics"/>, each copy-out of recorded calls' frames is counted (rows and time).
/// </summary>
internal sealed class FramePartitions(NpgsqlDataSource dataSource, TimeSpan width, TimeSpan retention, RelayMetrics? metrics = null)
{

    // Partitions exist this far ahead, so an INSERT never finds no partition even if maintenance stalls a while.
    private static readonly TimeSpan Lookahead = TimeSpan.FromMinutes(2);


    /// <summary>Creates missing partitions and drops expired ones; returns (created, dropped).</summary>
    public async Task<(int Created, int Dropped)> MaintainAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // A session lock (not a transaction one): DETACH … CONCURRENTLY cannot run inside a transaction.
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection))
        {
            tryLock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLocks.FramePartitionRotation });
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
            {
                return (0, 0);
            }
        }

        try
        {
            var created = 0;
            var dropped = 0;
            var now = DateTimeOffset.UtcNow;
            var widthSeconds = (long)width.TotalSeconds;
            var first = now.ToUnixTimeSeconds() / widthSeconds * widthSeconds - widthSeconds;
            var last = (now + Lookahead).ToUnixTimeSeconds();
            var expiredBefore = (now - retention).ToUnixTimeSeconds();
            foreach (var table in Tables.Frames)
            {
                var existing = await ListAsync(connection, table, cancellationToken);
                for (var start = first; start <= last; start += widthSeconds)
                {
                    if (existing.Contains(start) || start + widthSeconds <= expiredBefore)
                    {
                        continue;
                    }

                    // Created apart, then attached: CREATE TABLE … PARTITION OF takes an ACCESS EXCLUSIVE lock on the
                    // parent, which queues behind the writer's open transaction and stops every INSERT until it commits
                    // (an ingest stall at every rotation; docs/benchmarks.md, 2026-11-25). ATTACH takes only SHARE
                    // UPDATE EXCLUSIVE, which INSERTs do not conflict with; the new table is empty, so its check is free.
                    // No autovacuum: a partition is insert-only and dropped whole after the retention, but from PG13 on
                    // inserts alone make it (and its TOAST table) due for VACUUM, work that nobody would ever use.
                    await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
                        $"CREATE TABLE IF NOT EXISTS {table}_p{start} (LIKE {table} INCLUDING ALL) WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)"),
                        cancellationToken);
                    try
                    {
                        await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
                            $"ALTER TABLE {table} ATTACH PARTITION {table}_p{start} FOR VALUES FROM (to_timestamp({start})) TO (to_timestamp({start + widthSeconds}))"),
                            cancellationToken);
                        created++;
                    }
                    catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidObjectDefinition)
                    {
                        // The range overlaps a partition made with another width (a relay started with a new
                        // Relay:FramePartitionWidth on an existing database): that one already takes these rows, so
                        // this slot is left to it and maintenance goes on with the next one.
                        await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"DROP TABLE {table}_p{start}"), cancellationToken);
                    }
                }

                foreach (var start in existing)
                {
                    if (start + widthSeconds > expiredBefore)
                    {
                        continue;
                    }

                    // Recorded calls' rows outlive the partition: copied out first (idempotent if this is a retry).
                    var copyStarted = Stopwatch.GetTimestamp();
                    var copied = await RecordingArchive.CopyOutAsync(connection, table, string.Create(CultureInfo.InvariantCulture, $"{table}_p{start}"), start, start + widthSeconds, cancellationToken);
                    if (copied > 0)
                    {
                        metrics?.RecordingCopied(table == Tables.VideoFrames ? MediaKind.Video : MediaKind.Audio, copied, Stopwatch.GetElapsedTime(copyStarted));
                    }

                    // CONCURRENTLY takes only a SHARE UPDATE EXCLUSIVE lock: inserts into the live partitions go on.
                    await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE {table} DETACH PARTITION {table}_p{start} CONCURRENTLY"), cancellationToken);
                    await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"DROP TABLE {table}_p{start}"), cancellationToken);
                    dropped++;
                }
            }

            await RecordingArchive.DeleteExpiredAsync(connection, cancellationToken);
            return (created, dropped);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
            unlock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLocks.FramePartitionRotation });
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private static async Task<SortedSet<long>> ListAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var starts = new SortedSet<long>();
        await using var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var prefix = table + "_p";
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (name.StartsWith(prefix, StringComparison.Ordinal)
                && long.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                starts.Add(start);
            }
        }

        return starts;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
