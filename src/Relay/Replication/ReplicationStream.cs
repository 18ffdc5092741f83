using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;
using PgVideoChat.Relay.Sessions;
using PgVideoChat.Relay.Presence;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Storage;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// The relay's one read path: brings the database to the current schema, then streams this instance's slot
/// (pgoutput, binary) and hands every row to fan-out. A transaction's end LSN is confirmed only after its rows
/// are in the clients' queues; an idle stream still moves the slot forward. Any failure reconnects with backoff
/// and resumes from the slot's confirmed LSN; an invalidated slot is recreated and clients resync.
/// </summary>
internal sealed class ReplicationStream(
    NpgsqlDataSource dataSource,
    ReplicationConnectionString replicationConnectionString,
    ReplicationRowDispatcher dispatcher,
    CallDirectory directory,
    SessionRegistry registry,
    PresenceStore presence,
    ShardPublications publications,
    RecipientShards recipientShards,
    RelayState state,
    RelayMetrics metrics,
    IOptions<RelayOptions> options,
    ILogger<ReplicationStream> logger) : BackgroundService
{
    private static readonly TimeSpan IdleAdvanceAfter = TimeSpan.FromSeconds(1);
    private readonly RelayOptions _options = options.Value;
    private readonly ReplicationSlot _slot = new(ReplicationSlot.NameFor(options.Value.InstanceId));

    public string SlotName => _slot.Name;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await StartUpAsync(stoppingToken);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await StreamAsync(() => failures = 0, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Every exception: Npgsql may throw a NullReferenceException when the server ends the stream.
                state.StreamConnected = false;
                if (await WhySlotIsLostAsync(ex, stoppingToken) is { } reason)
                {
                    await RecreateSlotAsync(reason, stoppingToken);
                    continue;
                }

                var delay = Backoff(++failures);
                Log.StreamFailed(logger, ex, _slot.Name, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        state.StreamConnected = false;
    }

    private async Task StartUpAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var applied = await SchemaMigrator.MigrateAsync(dataSource, cancellationToken);
                Log.SchemaReady(logger, SchemaMigrator.LatestVersion, applied);
                var partitions = new FramePartitions(dataSource, _options.FramePartitionWidth, _options.FrameRetention);
                await partitions.MaintainAsync(cancellationToken);
                var stale = await presence.RemoveRelayConnectionsAsync(_options.InstanceId, cancellationToken);
                if (stale > 0)
                {
                    Log.StaleConnectionsRemoved(logger, stale, _options.InstanceId);
                }

                await RegisterInstanceAsync(cancellationToken);
                await publications.EnsureAsync(dataSource, cancellationToken);
                if (await _slot.EnsureAsync(dataSource, replicationConnectionString.Value, cancellationToken) is { } lsn)
                {
                    Log.SlotCreated(logger, _slot.Name, lsn);
                }

                await CallRows.LoadOpenCallsAsync(dataSource, directory, cancellationToken);
                await recipientShards.LoadAsync(dataSource, cancellationToken);
                state.SchemaReady = true;
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                var delay = Backoff(attempt);
                Log.StartupRetry(logger, ex, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    private async Task StreamAsync(Action onStarted, CancellationToken stoppingToken)
    {
        await using var connection = new LogicalReplicationConnection(replicationConnectionString.Value)
        {
            WalReceiverStatusInterval = _options.StatusInterval,
        };
        await connection.Open(stoppingToken);

        var protocol = (PgOutputProtocolVersion)_options.PgOutputProtocolVersion;
        var replicationOptions = new PgOutputReplicationOptions(publications.Names, protocol, binary: true);
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var tracker = new StreamTracker();
        var idle = AdvanceWhenIdleAsync(connection, tracker, streamCts.Token);
        try
        {
            var started = false;
            var commitTime = DateTime.UtcNow;
            await foreach (var message in connection.StartReplication(new PgOutputReplicationSlot(_slot.Name), replicationOptions, streamCts.Token))
            {
                if (!started)
                {
                    started = true;
                    state.StreamConnected = true;
                    onStarted();
                    Log.StreamStarted(logger, _slot.Name, string.Join(',', publications.Names), (int)protocol, connection.LastReceivedLsn.ToString());
                }

                tracker.Touch();
                switch (message)
                {
                    case BeginMessage begin:
                        tracker.InTransaction = true;
                        commitTime = begin.TransactionCommitTimestamp;
                        state.TransactionReceived(commitTime);
                        break;
                    case InsertMessage insert:
                        await DispatchAsync(insert.Relation, insert.NewRow, commitTime, streamCts.Token);
                        break;
                    case UpdateMessage update:
                        await DispatchAsync(update.Relation, update.NewRow, commitTime, streamCts.Token);
                        break;
                    case CommitMessage commit:
                        // The rows are in the clients' queues: this transaction need not be sent again.
                        connection.SetReplicationStatus(commit.TransactionEndLsn);
                        tracker.InTransaction = false;
                        break;
                }
            }
        }
        finally
        {
            await streamCts.CancelAsync();
            await idle.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            state.StreamConnected = false;
        }
    }

    private async ValueTask DispatchAsync(RelationMessage relation, ReplicationTuple row, DateTime commitTime, CancellationToken cancellationToken)
    {
        try
        {
            await dispatcher.DispatchAsync(relation, row, commitTime, cancellationToken);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or System.Text.Json.JsonException)
        {
            // A row this relay cannot read (e.g. written by a newer schema) must not stop everyone's stream.
            Log.RowDecodeFailed(logger, ex, relation.RelationName);
        }
    }

    // On an idle or fully filtered stream PG15 sends no transactions, so confirmed_flush_lsn would never move and
    // the slot would hold WAL: once nothing is pending, confirm what the server has sent (keepalives included).
    private async Task AdvanceWhenIdleAsync(LogicalReplicationConnection connection, StreamTracker tracker, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            if (tracker.InTransaction || tracker.SinceLastMessage < IdleAdvanceAfter)
            {
                continue;
            }

            try
            {
                var received = connection.LastReceivedLsn;
                if (received != default && received > connection.LastFlushedLsn)
                {
                    connection.SetReplicationStatus(received);
                    await connection.SendStatusUpdate(cancellationToken);
                }

                state.StreamConnected = true;
                state.CaughtUp();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.BackgroundFailed(logger, ex, "idle slot advance");
            }
        }
    }

    private async Task<string?> WhySlotIsLostAsync(Exception exception, CancellationToken cancellationToken)
    {
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

            var status = await _slot.GetWalStatusAsync(dataSource, cancellationToken);
            return status switch
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

    private async Task RecreateSlotAsync(string reason, CancellationToken cancellationToken)
    {
        Log.SlotInvalidated(logger, _slot.Name, reason);
        metrics.SlotRecreated();
        try
        {
            await _slot.DropAsync(dataSource, cancellationToken);
            await _slot.EnsureAsync(dataSource, replicationConnectionString.Value, cancellationToken);
            await CallRows.LoadOpenCallsAsync(dataSource, directory, cancellationToken);
            await recipientShards.LoadAsync(dataSource, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.StreamFailed(logger, ex, _slot.Name, 1000);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return;
        }

        // What happened between the loss and now never reaches the stream: clients reconnect and their hello
        // (read from the tables) brings them up to date.
        foreach (var session in registry.All)
        {
            session.RequestClose(CloseCodes.DatabaseUnavailable, "the relay's replication slot was recreated; reconnect to resync");
        }
    }

    private async Task RegisterInstanceAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO relay_instances (relay_id, slot_name) VALUES ($1, $2)
            ON CONFLICT (relay_id) DO UPDATE SET slot_name = EXCLUDED.slot_name, started_at = now(), heartbeat_at = now()
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = _options.InstanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = _slot.Name });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static TimeSpan Backoff(int attempt)
        => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt, 10))) * (0.8 + Random.Shared.NextDouble() * 0.4));

    private sealed class StreamTracker
    {
        private long _lastMessage = Environment.TickCount64;
        private volatile bool _inTransaction;

        public bool InTransaction
        {
            get => _inTransaction;
            set => _inTransaction = value;
        }

        public TimeSpan SinceLastMessage => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastMessage));

        public void Touch() => Interlocked.Exchange(ref _lastMessage, Environment.TickCount64);
    }
}

/// <summary>The connection string for replication connections (the data source hides its password).</summary>
internal sealed record ReplicationConnectionString(string Value);
