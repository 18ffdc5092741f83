using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay.Storage;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// Once a second: this slot's lag in bytes (<c>pg_current_wal_lsn() - confirmed_flush_lsn</c>) and the instance's
/// heartbeat (which the slot watchdog reads); every few seconds: frame partition rotation.
/// </summary>
internal sealed class SlotMonitor(
    NpgsqlDataSource dataSource, RelayState state, IOptions<RelayOptions> options, ILogger<SlotMonitor> logger) : BackgroundService
{
    private readonly RelayOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slot = ReplicationSlot.NameFor(_options.InstanceId);
        var partitions = new FramePartitions(dataSource, _options.FramePartitionWidth, _options.FrameRetention);
        var rotateEvery = TimeSpan.FromSeconds(Math.Max(1, _options.FramePartitionWidth.TotalSeconds / 2));
        var lastRotation = DateTime.MinValue;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!state.SchemaReady)
            {
                continue;
            }

            try
            {
                await using var batch = dataSource.CreateBatch();
                var lag = new NpgsqlBatchCommand(
                    "SELECT COALESCE((SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1), -1), (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
                lag.Parameters.Add(new NpgsqlParameter { Value = slot });
                var heartbeat = new NpgsqlBatchCommand("UPDATE relay_instances SET heartbeat_at = now() WHERE relay_id = $1");
                heartbeat.Parameters.Add(new NpgsqlParameter { Value = _options.InstanceId });
                batch.BatchCommands.Add(lag);
                batch.BatchCommands.Add(heartbeat);
                await using (var reader = await batch.ExecuteReaderAsync(stoppingToken))
                {
                    await reader.ReadAsync(stoppingToken);
                    state.SlotLagBytes = reader.GetInt64(0);
                    state.ObserveWalPosition(reader.GetInt64(1));
                }

                if (DateTime.UtcNow - lastRotation >= rotateEvery)
                {
                    lastRotation = DateTime.UtcNow;
                    var (created, dropped) = await partitions.MaintainAsync(stoppingToken);
                    if (created + dropped > 0)
                    {
                        Log.PartitionsRotated(logger, created, dropped);
                    }
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                Log.BackgroundFailed(logger, ex, nameof(SlotMonitor));
            }
        }
    }
}
