using Npgsql;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>
/// One reading of the server: WAL position and the lag of the relays' slots (<see cref="SlotLagBytes"/> is the largest;
/// <see cref="Lags"/> has each slot that exists, by name).
/// </summary>
internal readonly record struct PostgresReading(long WalPosition, long? SlotLagBytes, int Slots, IReadOnlyDictionary<string, long> Lags);

/// <summary>
/// Reads WAL position and slot lag (<c>pg_current_wal_lsn() - confirmed_flush_lsn</c>) over one kept connection: of the
/// named slots when <paramref name="slotNames"/> is given (the relays of an app model this runner started), else of
/// every logical slot whose name starts with <paramref name="slotPrefix"/>.
/// </summary>
internal sealed class PostgresProbe(string connectionString, IReadOnlyList<string>? slotNames = null, string slotPrefix = "pgvideochat\\_") : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;

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

            return new PostgresReading(position, lags.Count == 0 ? null : lags.Values.Max(), lags.Count, lags);
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

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
