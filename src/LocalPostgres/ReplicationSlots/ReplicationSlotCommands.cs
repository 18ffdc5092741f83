using Npgsql;

namespace Aspire.Hosting;

/// <summary>What the dashboard's slot commands do, for use from other resources' commands too.</summary>
public static class ReplicationSlotCommands
{
    /// <summary>
    /// Drops a slot that no one streams from. Returns false when it is active (or gone): dropping an active slot
    /// would fail in Postgres anyway, and is never what a click on an inactive slot meant.
    /// </summary>
    public static async Task<bool> DropInactiveAsync(string connectionString, string slotName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(slotName);
        await using var connection = await OpenAsync(connectionString, cancellationToken).ConfigureAwait(false);
        return await DropIfInactiveAsync(connection, slotName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the walsender that streams from a slot (waiting until it has exited) and drops the slot, so that its
    /// consumer, which reconnects, finds it missing and makes a new one at the current WAL position.
    /// </summary>
    /// <returns>False when the slot does not exist.</returns>
    /// <exception cref="InvalidOperationException">The consumer took the slot again each time before it could be dropped.</exception>
    public static async Task<bool> TerminateAndDropAsync(string connectionString, string slotName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(slotName);
        await using var connection = await OpenAsync(connectionString, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await using (var terminate = new NpgsqlCommand(
                "SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL", connection))
            {
                terminate.Parameters.Add(new NpgsqlParameter { Value = slotName });
                await terminate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // The consumer may have reconnected between the two statements: then end it again.
            if (await DropIfInactiveAsync(connection, slotName, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", connection);
            exists.Parameters.Add(new NpgsqlParameter { Value = slotName });
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                return false;
            }
        }

        throw new InvalidOperationException($"The slot {slotName} was taken again by its consumer five times before it could be dropped.");
    }

    private static async Task<bool> DropIfInactiveAsync(NpgsqlConnection connection, string slotName, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = slotName });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
