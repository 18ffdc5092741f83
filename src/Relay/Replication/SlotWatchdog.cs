using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay.Schema;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// Abandoned slots fill disks: a relay instance that never comes back (scaled down, renamed, lost) leaves a slot that
/// holds WAL forever. Every relay runs this watchdog; under an advisory lock one at a time drops the slots of instances
/// whose heartbeat is older than <c>Relay:AbandonedAfter</c> — only inactive slots of registered instances, never a
/// slot it does not know — and removes those instances' connection rows, so their users show offline.
/// </summary>
internal sealed class SlotWatchdog(
    NpgsqlDataSource dataSource, RelayState state, IOptions<RelayOptions> options, RelayMetrics metrics, ILogger<SlotWatchdog> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WatchdogInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!state.StartedUp)
            {
                continue;
            }

            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                Log.BackgroundFailed(logger, ex, nameof(SlotWatchdog));
            }
        }
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock($1)", connection, transaction))
        {
            tryLock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLocks.AbandonedSlotSweep });
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
            {
                return 0;
            }
        }

        var abandoned = new List<(string RelayId, string Slot)>();
        await using (var select = new NpgsqlCommand("""
            SELECT r.relay_id, r.slot_name FROM relay_instances r
            LEFT JOIN pg_replication_slots s ON s.slot_name = r.slot_name
            WHERE r.heartbeat_at < now() - $1 AND r.relay_id <> $2 AND COALESCE(s.active, false) = false
            FOR UPDATE OF r SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = options.Value.AbandonedAfter });
            select.Parameters.Add(new NpgsqlParameter { Value = options.Value.InstanceId });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                abandoned.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (relayId, slot) in abandoned)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            var drop = new NpgsqlBatchCommand("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active");
            drop.Parameters.Add(new NpgsqlParameter { Value = slot });
            var connections = new NpgsqlBatchCommand("DELETE FROM connections WHERE relay_id = $1");
            connections.Parameters.Add(new NpgsqlParameter { Value = relayId });
            var instance = new NpgsqlBatchCommand("DELETE FROM relay_instances WHERE relay_id = $1");
            instance.Parameters.Add(new NpgsqlParameter { Value = relayId });
            batch.BatchCommands.Add(drop);
            batch.BatchCommands.Add(connections);
            batch.BatchCommands.Add(instance);
            await batch.ExecuteNonQueryAsync(cancellationToken);
            Log.AbandonedSlotDropped(logger, slot, relayId, options.Value.AbandonedAfter);
            metrics.AbandonedSlotDropped();
        }

        await transaction.CommitAsync(cancellationToken);
        return abandoned.Count;
    }
}
