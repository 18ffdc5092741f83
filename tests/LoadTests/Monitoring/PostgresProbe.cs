using Npgsql;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>
/// One reading of the server: WAL position and the lag of the relays' slots (<see cref="SlotLagBytes"/> is the largest;
/// <see cref="Lags"/> has each slot that exists, by name), and the WAL's flushes so far from <c>pg_stat_wal</c>.
/// </summary>
internal readonly record struct PostgresReading(long WalPosition, long? SlotLagBytes, int Slots, IReadOnlyDictionary<string, long> Lags, WalFlushes? Flushes = null, long? RecordedBytes = null);

/// <summary>
/// <c>pg_stat_wal</c>'s counters: how many times the WAL was synced to disk and the time spent (null when
/// <c>track_wal_io_timing</c> is off), and how many segment files <c>pg_wal</c> holds (null without the right to list
/// it). A commit waits for its WAL's sync, so the mean sync time says whether a slow second waited on the disk; the
/// segment count grows while Postgres creates new segments instead of recycling old ones (a fresh cluster before its
/// first checkpoints).
/// </summary>
internal readonly record struct WalFlushes(long Syncs, double? SyncMilliseconds, int? SegmentFiles);

/// <summary>
/// Reads WAL position and slot lag (<c>pg_current_wal_lsn() - confirmed_flush_lsn</c>) over one kept connection: of the
/// named slots when <paramref name="slotNames"/> is given (the relays of an app model this runner started), else of
/// every logical slot whose name starts with <paramref name="slotPrefix"/>.
/// </summary>
internal sealed class PostgresProbe(string connectionString, IReadOnlyList<string>? slotNames = null, string slotPrefix = "pgvideochat\\_") : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _canListWal = true;
    private bool _canReadWalStats = true;

    public async Task<PostgresReading?> ReadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not { State: System.Data.ConnectionState.Open })
            {
                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                }

                var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "pgvideochat-loadtests-probe", Pooling = false, Timeout = 3, CommandTimeout = 3 };
                _connection = new NpgsqlConnection(builder.ConnectionString);
                await _connection.OpenAsync(cancellationToken);
            }

            // One row per slot (none when there is no slot yet): WAL position repeated, slot name, lag.
            await using var command = new NpgsqlCommand("""
                SELECT w.position, s.slot_name::text, pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::bigint
                FROM (SELECT pg_current_wal_lsn() AS lsn, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS position) w
                LEFT JOIN pg_replication_slots s ON s.slot_type = 'logical'
                  AND (CASE WHEN $1::text[] IS NULL THEN s.slot_name LIKE $2 ELSE s.slot_name = ANY($1::text[]) END)
                """, _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = slotNames is null ? DBNull.Value : slotNames.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = slotPrefix + "%" });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            long position = 0;
            var lags = new Dictionary<string, long>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken))
            {
                position = reader.GetInt64(0);
                if (!reader.IsDBNull(1) && !reader.IsDBNull(2))
                {
                    lags[reader.GetString(1)] = reader.GetInt64(2);
                }
            }

            await reader.DisposeAsync();
            return new PostgresReading(position, lags.Count == 0 ? null : lags.Values.Max(), lags.Count, lags, await ReadFlushesAsync(_connection, cancellationToken),
                await RecordedBytesAsync(_connection, cancellationToken));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }

            return null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The disk the recordings hold: <c>pg_total_relation_size</c> (heap, TOAST, indexes) of every partition of
    /// <c>recorded_video_frames</c> and <c>recorded_audio_frames</c>; 0 on a schema without recordings.
    /// </summary>
    internal static async Task<long> RecordedBytesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint FROM pg_inherits i
            WHERE i.inhparent IN (SELECT to_regclass(t) FROM unnest(ARRAY['recorded_video_frames', 'recorded_audio_frames']) t)
            """, connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<WalFlushes?> ReadFlushesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!_canReadWalStats)
        {
            return null;
        }

        // pg_ls_waldir() needs superuser or pg_monitor: a runner pointed at someone else's server may not have it, and
        // then goes on without the count rather than without the rest.
        await using var command = new NpgsqlCommand(
            $"""
            SELECT wal_sync, CASE WHEN current_setting('track_wal_io_timing')::bool THEN wal_sync_time END,
                   {(_canListWal ? "(SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$')::int" : "NULL::int")}
            FROM pg_stat_wal
            """, connection);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new WalFlushes(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetDouble(1), reader.IsDBNull(2) ? null : reader.GetInt32(2));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege && _canListWal)
        {
            _canListWal = false;
            return await ReadFlushesAsync(connection, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedColumn or PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedObject)
        {
            // PostgreSQL 18 moved the sync counters to pg_stat_io: without them the slot lag and WAL rate still count.
            _canReadWalStats = false;
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
