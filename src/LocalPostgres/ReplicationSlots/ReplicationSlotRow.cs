using Npgsql;

namespace PgVideoChat.Hosting.LocalPostgres.ReplicationSlots;

/// <summary>One row of <c>pg_replication_slots</c>, with the lag and retained WAL in bytes.</summary>
internal sealed record ReplicationSlotRow(
    string Name,
    string SlotType,
    string? Plugin,
    bool Active,
    int? ActivePid,
    string? WalStatus,
    long? LagBytes,
    long? RetainedBytes,
    long? SafeWalSize,
    string? RestartLsn,
    string? ConfirmedFlushLsn,
    bool Temporary)
{
    // Logical slots of this database, and physical ones (they hold WAL for the whole server).
    private const string Query = """
        SELECT slot_name, slot_type, plugin, active, active_pid, wal_status,
               (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint,
               (pg_current_wal_lsn() - restart_lsn)::bigint,
               safe_wal_size, restart_lsn::text, confirmed_flush_lsn::text, temporary
        FROM pg_replication_slots
        WHERE database = current_database() OR database IS NULL
        ORDER BY slot_name
        """;

    public static async Task<IReadOnlyList<ReplicationSlotRow>> ReadAllAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<ReplicationSlotRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new ReplicationSlotRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.IsDBNull(10) ? null : reader.GetString(10),
                reader.GetBoolean(11)));
        }

        return rows;
    }
}
