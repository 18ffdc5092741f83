using System.Collections.Concurrent;
using Npgsql;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>One replication slot as Postgres reports it.</summary>
internal sealed record SlotSample(
    string Database,
    string SlotName,
    bool Active,
    int? ActivePid,
    string? WalStatus,
    long? SafeWalSizeBytes,
    long? LagBytes,
    long? RetainedBytes,
    double? ReplyLagSeconds);

/// <summary>Samples of the whole server at one moment.</summary>
internal sealed record ServerSample(DateTimeOffset Time, string Server, long WalBytesPerSecond, IReadOnlyList<SlotSample> Slots);

/// <summary>
/// Reads <c>pg_replication_slots</c> and <c>pg_stat_replication</c> of every Postgres resource once a second and keeps
/// ten minutes of history: the numbers that tell whether the relays keep up, and which slot retains WAL.
/// </summary>
internal sealed class ReplicationSlotSampler(DistributedApplication application) : IAsyncDisposable
{
    public const int HistoryLength = 600;

    private const string Query = """
        SELECT s.database, s.slot_name, s.active, s.active_pid, s.wal_status,
               s.safe_wal_size,
               pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,
               pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint AS retained_bytes,
               EXTRACT(EPOCH FROM r.replay_lag)::float8 AS reply_lag_seconds,
               pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS wal_position
        FROM pg_replication_slots s
        LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
        WHERE s.slot_type = 'logical'
        ORDER BY s.slot_name
        """;

    private readonly ConcurrentQueue<ServerSample> _history = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, (DateTimeOffset Time, long Position)> _lastWalPosition = [];
    private Task? _loop;

    public IReadOnlyList<ServerSample> History => [.. _history];

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var server in application.Resources.OfType<PostgresServerResource>())
            {
                if (application.ResourceNotifications.TryGet(server.Name) is not { IsHealthy: true } || server.ConnectionString is not { } connectionString)
                {
                    continue;
                }

                try
                {
                    _history.Enqueue(await SampleAsync(server.Name, connectionString, cancellationToken).ConfigureAwait(false));
                    while (_history.Count > HistoryLength * Math.Max(1, application.Resources.OfType<PostgresServerResource>().Count()))
                    {
                        _history.TryDequeue(out _);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    // The server may be restarting; the next tick tries again.
                }
            }
        }
    }

    private async Task<ServerSample> SampleAsync(string serverName, string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", ApplicationName = "pgvideochat-dashboard", Timeout = 3, MaxPoolSize = 2 };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(Query, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var slots = new List<SlotSample>();
        long? walPosition = null;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            slots.Add(new SlotSample(
                reader.IsDBNull(0) ? string.Empty : reader.GetString(0),
                reader.GetString(1),
                reader.GetBoolean(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetDouble(8)));
            walPosition = reader.GetInt64(9);
        }

        await reader.CloseAsync().ConfigureAwait(false);
        if (walPosition is null)
        {
            await using var position = new NpgsqlCommand("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint", connection);
            walPosition = (long)(await position.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        var now = DateTimeOffset.UtcNow;
        long rate = 0;
        if (_lastWalPosition.TryGetValue(serverName, out var last) && now > last.Time)
        {
            rate = (long)((walPosition.Value - last.Position) / (now - last.Time).TotalSeconds);
        }

        _lastWalPosition[serverName] = (now, walPosition.Value);
        return new ServerSample(now, serverName, Math.Max(0, rate), slots);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }
}
