using Npgsql;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>One reading of the server: WAL position and the lag of the relays' slots.</summary>
internal readonly record struct PostgresReading(long WalPosition, long? SlotLagBytes, int Slots);

/// <summary>Reads WAL position and slot lag (<c>pg_current_wal_lsn() - confirmed_flush_lsn</c>) over one kept connection.</summary>
internal sealed class PostgresProbe(string connectionString, string slotPrefix = "pgvideochat\\_") : IAsyncDisposable
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

            await using var command = new NpgsqlCommand("""
                SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
                       (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::bigint FROM pg_replication_slots
                         WHERE slot_type = 'logical' AND slot_name LIKE $1),
                       (SELECT count(*)::int FROM pg_replication_slots WHERE slot_type = 'logical' AND slot_name LIKE $1)
                """, _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = slotPrefix + "%" });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new PostgresReading(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetInt32(2));
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
