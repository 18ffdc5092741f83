using System.Threading.Channels;
using Npgsql;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Presence;

/// <summary>
/// One <c>connections</c> row per open WebSocket; statement triggers keep <c>presence</c> (published) in step, so a
/// user is online while any relay holds a connection of theirs. Rows are written at connect by
/// <see cref="SessionOpening.OpenAsync"/>; disconnects are group-committed here: whatever deletes are queued when
/// the writer is free go to Postgres as one statement and one transaction (it never waits to fill a batch).
/// </summary>
internal sealed class PresenceStore : IAsyncDisposable
{
    private const int MaxBatch = 1000;
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PresenceStore> _logger;
    private readonly Channel<PendingDelete> _deletes = Channel.CreateUnbounded<PendingDelete>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;

    public PresenceStore(NpgsqlDataSource dataSource, ILogger<PresenceStore> logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _writer = Task.Run(WriteDeletesAsync);
    }

    /// <summary>
    /// Removes a connection row, together with any others queued at the same time. Completes when the row is gone;
    /// if the database refused, it throws and the row is retried every second in the background (and in any case
    /// removed when this relay next starts).
    /// </summary>
    public async Task DisconnectAsync(long connectionRowId, CancellationToken cancellationToken)
    {
        var pending = new PendingDelete(connectionRowId, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_deletes.Writer.TryWrite(pending))
        {
            // Shutting down: the writer is gone.
            await DeleteAsync([connectionRowId], cancellationToken);
            return;
        }

        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>At start: this instance's rows from before a crash belong to sockets that no longer exist.</summary>
    public async Task<int> RemoveRelayConnectionsAsync(string relayId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM connections WHERE relay_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = relayId });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _deletes.Writer.TryComplete();
        try
        {
            // Queued deletes still go out; a retry loop waiting on a database that is gone does not hold shutdown up.
            await _writer.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        await _stopping.CancelAsync();
        await _writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task WriteDeletesAsync()
    {
        var reader = _deletes.Reader;
        var batch = new List<PendingDelete>();
        var failed = new List<long>();
        var retryAt = DateTime.MaxValue;
        try
        {
            while (true)
            {
                if (failed.Count == 0)
                {
                    if (!await reader.WaitToReadAsync(_stopping.Token))
                    {
                        return;
                    }
                }
                else
                {
                    // Wake up for new deletes or for the retry, whichever comes first.
                    var wait = retryAt - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                        timeout.CancelAfter(wait);
                        try
                        {
                            if (!await reader.WaitToReadAsync(timeout.Token))
                            {
                                await TryDeleteAsync(failed, _stopping.Token);
                                return;
                            }
                        }
                        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                        {
                        }
                    }
                }

                while (batch.Count < MaxBatch && reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                var ids = new List<long>(batch.Count + failed.Count);
                ids.AddRange(batch.Select(static p => p.RowId));
                if (DateTime.UtcNow >= retryAt || batch.Count == 0)
                {
                    ids.AddRange(failed);
                    failed.Clear();
                    retryAt = DateTime.MaxValue;
                }

                var error = await TryDeleteAsync(ids, _stopping.Token);
                if (error is not null)
                {
                    failed.AddRange(ids);
                    retryAt = DateTime.UtcNow + RetryAfter;
                }

                foreach (var pending in batch)
                {
                    if (error is null)
                    {
                        pending.Done.TrySetResult();
                    }
                    else
                    {
                        pending.Done.TrySetException(error);
                    }
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var pending in batch)
            {
                pending.Done.TrySetCanceled();
            }

            while (reader.TryRead(out var pending))
            {
                pending.Done.TrySetCanceled();
            }
        }
    }

    private async Task<Exception?> TryDeleteAsync(List<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return null;
        }

        try
        {
            await DeleteAsync([.. ids], cancellationToken);
            return null;
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            // Whatever went wrong, the writer lives on: a dead writer would leave every later row behind.
            Log.ConnectionRowsNotDeleted(_logger, ex, ids.Count);
            return ex;
        }
    }

    private async Task DeleteAsync(long[] ids, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM connections WHERE id = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        await command.PrepareAsync(cancellationToken);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private readonly record struct PendingDelete(long RowId, TaskCompletionSource Done);
}
