using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Relay.Presence;
using PgVideoChat.Relay.Replication;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Storage;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Startup;

/// <summary>
/// Brings this relay from nothing to ready: the schema migrated, the frame partitions in place, this instance's
/// leftover connection rows removed, the instance registered, the publications and its slot created, the caches
/// loaded. Retried with backoff while the database is unreachable; then <see cref="RelayState.StartedUp"/>, and the
/// replication stream starts.
/// </summary>
internal sealed class RelayStartup(
    NpgsqlDataSource dataSource,
    ReplicationConnectionString replicationConnectionString,
    ReplicationSlot slot,
    ShardPublications publications,
    PresenceStore presence,
    InstanceRegistry instances,
    ReplicatedCaches caches,
    RelayState state,
    IOptions<RelayOptions> options,
    ILogger<RelayStartup> logger) : BackgroundService
{
    private readonly RelayOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartUpAsync(stoppingToken);
                state.MarkStartedUp();
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                var delay = Backoff.For(attempt);
                Log.StartupRetry(logger, ex, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken);
            }
        }
    }

    private async Task StartUpAsync(CancellationToken cancellationToken)
    {
        var applied = await SchemaMigrator.MigrateAsync(dataSource, cancellationToken);
        Log.SchemaReady(logger, SchemaMigrator.LatestVersion, applied);
        await new FramePartitions(dataSource, _options.FramePartitionWidth, _options.FrameRetention).MaintainAsync(cancellationToken);
        var stale = await presence.RemoveRelayConnectionsAsync(_options.InstanceId, cancellationToken);
        if (stale > 0)
        {
            Log.StaleConnectionsRemoved(logger, stale, _options.InstanceId);
        }

        await instances.RegisterAsync(slot.Name, cancellationToken);
        await publications.EnsureAsync(dataSource, cancellationToken);
        if (await slot.EnsureAsync(dataSource, replicationConnectionString.Value, cancellationToken) is { } lsn)
        {
            Log.SlotCreated(logger, slot.Name, lsn);
        }

        await caches.LoadAsync(cancellationToken);
    }
}
