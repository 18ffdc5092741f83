using Microsoft.Extensions.Options;
using Npgsql;

namespace PgVideoChat.Relay.Startup;

/// <summary>
/// This relay's row in <c>relay_instances</c>: which slot is its own, when it started, and a heartbeat that the slot
/// watchdog of every relay reads to tell a live instance from an abandoned one.
/// </summary>
internal sealed class InstanceRegistry(NpgsqlDataSource dataSource, IOptions<RelayOptions> options)
{
    private readonly string _instanceId = options.Value.InstanceId;

    public async Task RegisterAsync(string slotName, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO relay_instances (relay_id, slot_name) VALUES ($1, $2)
            ON CONFLICT (relay_id) DO UPDATE SET slot_name = EXCLUDED.slot_name, started_at = now(), heartbeat_at = now()
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = _instanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = slotName });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE relay_instances SET heartbeat_at = now() WHERE relay_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = _instanceId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
