using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// When the stream fails, whether this relay's slot is lost for good (invalidated, dropped, older than its
/// publications) and, if so, a new slot: the caches are reloaded and every session is closed so that its client
/// resyncs from the tables, because what happened in between never reaches the new slot.
/// </summary>
internal sealed class SlotRecovery(
    NpgsqlDataSource dataSource,
    ReplicationConnectionString replicationConnectionString,
    ReplicationSlot slot,
    ShardPublications publications,
    ReplicatedCaches caches,
    SessionRegistry sessions,
    RelayMetrics metrics,
    ILogger<SlotRecovery> logger)
{
    /// <summary>Why the slot is lost after <paramref name="exception"/>, or <see langword="null"/> when it is not (retry the stream).</summary>
    public async Task<string?> WhyLostAsync(Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is PostgresException { SqlState: PostgresErrorCodes.ObjectNotInPrerequisiteState } pg
            && pg.MessageText.Contains("invalidated", StringComparison.OrdinalIgnoreCase))
        {
            return "invalidated by max_slot_wal_keep_size";
        }

        // pgoutput reads publications as of the WAL it decodes: a slot older than a publication it is asked for
        // (shard routing turned on for an existing relay) fails on every start. Only a new slot can read it.
        try
        {
            // Only when every publication exists now: recreating the slot cannot help one that is really missing
            // (dropped by hand), and that stays an ordinary, logged, retried failure.
            if (exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedObject } missing
                && missing.MessageText.Contains("publication", StringComparison.OrdinalIgnoreCase))
            {
                await publications.EnsureAsync(dataSource, cancellationToken);
                return await publications.AllExistAsync(dataSource, cancellationToken) ? "older than its publications" : null;
            }

            return await slot.GetWalStatusAsync(dataSource, cancellationToken) switch
            {
                null => "dropped",
                "lost" => "invalidated by max_slot_wal_keep_size",
                _ => null,
            };
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    public async Task RecreateAsync(string reason, CancellationToken cancellationToken)
    {
        Log.SlotInvalidated(logger, slot.Name, reason);
        metrics.SlotRecreated();
        try
        {
            await slot.DropAsync(dataSource, cancellationToken);
            await slot.EnsureAsync(dataSource, replicationConnectionString.Value, cancellationToken);
            await caches.LoadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.StreamFailed(logger, ex, slot.Name, 1000);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return;
        }

        foreach (var session in sessions.All)
        {
            session.RequestClose(CloseCodes.DatabaseUnavailable, "the relay's replication slot was recreated; reconnect to resync");
        }
    }
}
