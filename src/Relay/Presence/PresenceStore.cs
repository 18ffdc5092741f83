using Npgsql;

namespace PgVideoChat.Relay.Presence;

/// <summary>
/// One <c>connections</c> row per open WebSocket; a trigger keeps <c>presence</c> (published) in step, so a
/// user is online while any relay holds a connection of theirs.
/// </summary>
internal sealed class PresenceStore(NpgsqlDataSource dataSource)
{
    public async Task<long> ConnectAsync(long userId, string relayId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO connections (user_id, relay_id) VALUES ($1, $2) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        command.Parameters.Add(new NpgsqlParameter { Value = relayId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task DisconnectAsync(long connectionRowId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM connections WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = connectionRowId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>At start: this instance's rows from before a crash belong to sockets that no longer exist.</summary>
    public async Task<int> RemoveRelayConnectionsAsync(string relayId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM connections WHERE relay_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = relayId });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<string?> FindDisplayNameAsync(long userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT display_name FROM users WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
