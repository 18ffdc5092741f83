using Npgsql;
using Npgsql.Replication;

namespace PgVideoChat.Relay.Replication;

/// <summary>This relay instance's permanent logical replication slot (pgoutput), named after its instance id.</summary>
internal sealed class ReplicationSlot(string name)
{
    public string Name { get; } = name;

    public static string NameFor(string instanceId)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        return "pgvideochat_" + instanceId.ToLowerInvariant().Replace('-', '_');
    }

    /// <summary>The slot's <c>wal_status</c>, or <see langword="null"/> when it does not exist.</summary>
    public async Task<string?> GetWalStatusAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand("SELECT COALESCE(wal_status, 'unknown') FROM pg_replication_slots WHERE slot_name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = Name });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Creates the slot unless it exists; returns whether it was created, and its LSN.</summary>
    public async Task<string?> EnsureAsync(NpgsqlDataSource dataSource, string replicationConnectionString, CancellationToken cancellationToken)
    {
        if (await GetWalStatusAsync(dataSource, cancellationToken) is not null)
        {
            return null;
        }

        await using var connection = new LogicalReplicationConnection(replicationConnectionString);
        await connection.Open(cancellationToken);
        try
        {
            var slot = await connection.CreatePgOutputReplicationSlot(Name, temporarySlot: false,
                slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancellationToken);
            return slot.ConsistentPoint.ToString();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            // Another start of this same instance won the race; the slot is there.
            return null;
        }
    }

    public async Task DropAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active");
        command.Parameters.Add(new NpgsqlParameter { Value = Name });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
