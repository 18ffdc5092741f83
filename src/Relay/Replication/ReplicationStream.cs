using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using PgVideoChat.Relay.Sharding;
using PgVideoChat.Relay.Storage;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Replication;

/// <summary>
/// The relay's one read path: streams this instance's slot (pgoutput, binary) once start-up is done and hands every
/// row to the dispatcher. A transaction's end LSN is confirmed only after its rows are in the clients' queues; an
/// idle stream still moves the slot forward. Any failure reconnects with backoff and resumes from the slot's
/// confirmed LSN; a lost slot is recreated (<see cref="SlotRecovery"/>).
/// </summary>
internal sealed class ReplicationStream(
    ReplicationConnectionString replicationConnectionString,
    ReplicationSlot slot,
    ShardPublications publications,
    ReplicationRowDispatcher dispatcher,
    SlotRecovery recovery,
    RelayState state,
    IOptions<RelayOptions> options,
    ILogger<ReplicationStream> logger) : BackgroundService
{
    private static readonly TimeSpan IdleAdvanceAfter = TimeSpan.FromSeconds(1);
    private readonly RelayOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await state.WhenStartedUp.WaitAsync(stoppingToken);
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
                if (await recovery.WhyLostAsync(ex, stoppingToken) is { } reason)
                {
                    await recovery.RecreateAsync(reason, stoppingToken);
                    continue;
                }

                var delay = Backoff.For(++failures);
                Log.StreamFailed(logger, ex, slot.Name, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        state.StreamConnected = false;
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
            await foreach (var message in connection.StartReplication(new PgOutputReplicationSlot(slot.Name), replicationOptions, streamCts.Token))
            {
                if (!started)
                {
                    started = true;
                    state.StreamConnected = true;
                    onStarted();
                    Log.StreamStarted(logger, slot.Name, string.Join(',', publications.Names), (int)protocol, connection.LastReceivedLsn.ToString());
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
