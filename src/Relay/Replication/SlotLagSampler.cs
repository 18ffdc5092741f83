using Npgsql;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// Once a second: how far this relay's slot is behind the WAL (<c>pg_current_wal_lsn() - confirmed_flush_lsn</c>,
/// -1 without a slot) and the WAL position itself, for the lag and WAL-rate metrics and the health check.
/// </summary>
internal sealed class SlotLagSampler(NpgsqlDataSource dataSource, ReplicationSlot slot, RelayState state, ILogger<SlotLagSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await state.WhenStartedUp.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT COALESCE((SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1), -1), (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
                command.Parameters.Add(new NpgsqlParameter { Value = slot.Name });
                await using var reader = await command.ExecuteReaderAsync(stoppingToken);
                await reader.ReadAsync(stoppingToken);
                state.SlotLagBytes = reader.GetInt64(0);
                state.ObserveWalPosition(reader.GetInt64(1));
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                Log.BackgroundFailed(logger, ex, nameof(SlotLagSampler));
            }
        }
    }
}
