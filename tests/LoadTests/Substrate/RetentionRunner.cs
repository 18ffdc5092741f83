using System.Diagnostics;
using System.Globalization;
using Npgsql;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.LoadTests.Target;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>One second of a retention variant.</summary>
public sealed record RetentionSample(double T, long TotalBytes, long ToastBytes, long LiveTuples, long DeadTuples, long Vacuums, double? WalBytesPerSecond, double InsertP99Ms, int Partitions);

/// <summary>One retention variant's outcome.</summary>
public sealed record RetentionVariant(
    string Name,
    string Method,
    double Seconds,
    long RowsInserted,
    double RowsPerSecond,
    LatencyPercentiles InsertLatencyMs,
    LatencyPercentiles MaintenanceLatencyMs,
    long MaintenanceRuns,
    long RowsDeleted,
    long PartitionsDropped,
    long WalBytes,
    double WalBytesPerRow,
    long MaxTotalBytes,
    long FinalTotalBytes,
    long MaxToastBytes,
    long FinalToastBytes,
    long MaxDeadTuples,
    long FinalDeadTuples,
    long Vacuums,
    IReadOnlyList<RetentionSample> Samples);

/// <summary>What <c>summary.json</c> holds for <c>retention</c>.</summary>
public sealed record RetentionSummary() : RunSummary("retention")
{
    public int RowsPerSecond { get; init; }

    public double KeepSeconds { get; init; }

    public double MeanPayloadBytes { get; init; }

    public IReadOnlyList<RetentionVariant> Variants { get; init; } = [];
}

/// <summary>
/// <c>retention</c>: frames inserted at a steady rate into a scratch copy of <c>video_frames</c> (same columns, payload
/// stored EXTERNAL), once with the canonical demo's <c>DELETE … WHERE stored_at &lt; now() - keep</c> every 2 s, once
/// with time partitions created ahead and detached (CONCURRENTLY) and dropped when wholly older than keep. Samples
/// table + TOAST size, dead tuples and vacuums, insert latency and WAL; drops the scratch tables afterwards.
/// </summary>
internal static class RetentionRunner
{
    private const string DeleteTable = "loadtest_retention_delete";
    private const string PartitionedTable = "loadtest_retention_part";

    public static async Task<RunResult<RetentionSummary>> RunAsync(RetentionOptions options, CancellationToken cancellationToken)
    {
        await using var session = RunSession.Begin("retention", options.Output, plain: true);
        var progress = session.Progress;
        progress.Log($"session {session.Id}: retention, {options.RowsPerSecond} frames/s for {Durations.Format(options.Duration)} per variant, keep {options.Keep.TotalSeconds:0.#} s");
        var media = session.CreateMedia(options.Media);
        var target = await session.OpenTargetAsync(options.Target, cancellationToken);
        var connectionString = session.ConnectionString;

        var variants = new List<RetentionVariant>();
        try
        {
            await ExecuteAsync(connectionString, $"DROP TABLE IF EXISTS {DeleteTable}; DROP TABLE IF EXISTS {PartitionedTable}", cancellationToken);
            variants.Add(await RunVariantAsync("delete", options, media, connectionString, progress, cancellationToken));
            variants.Add(await RunVariantAsync("partitions", options, media, connectionString, progress, cancellationToken));
        }
        finally
        {
            await ExecuteAsync(connectionString, $"DROP TABLE IF EXISTS {DeleteTable}; DROP TABLE IF EXISTS {PartitionedTable}", CancellationToken.None);
            progress.Log("scratch tables dropped");
        }

        var summary = session.Stamp(new RetentionSummary
        {
            RowsPerSecond = options.RowsPerSecond,
            KeepSeconds = options.Keep.TotalSeconds,
            MeanPayloadBytes = Math.Round(media.MeanVideoBytes, 0),
            Variants = variants,
            ExitCode = variants.All(v => v.RowsInserted > 0) ? CallsRunner.ExitPassed : CallsRunner.ExitThresholdsFailed,
        });

        var rows = new List<KeyValuePair<string, string>>();
        foreach (var v in variants)
        {
            rows.Add(new($"{v.Name}: method", v.Method));
            rows.Add(new($"{v.Name}: inserts", string.Create(CultureInfo.InvariantCulture, $"{v.RowsInserted} rows, {v.RowsPerSecond:0.#} rows/s; latency p50 {v.InsertLatencyMs.P50:0.###} ms, p99 {v.InsertLatencyMs.P99:0.###} ms, max {v.InsertLatencyMs.Max:0.###} ms")));
            rows.Add(new($"{v.Name}: table + toast size", $"max {ProgressView.Bytes(v.MaxTotalBytes)}, final {ProgressView.Bytes(v.FinalTotalBytes)} (toast max {ProgressView.Bytes(v.MaxToastBytes)}, final {ProgressView.Bytes(v.FinalToastBytes)})"));
            rows.Add(new($"{v.Name}: dead tuples", string.Create(CultureInfo.InvariantCulture, $"max {v.MaxDeadTuples}, final {v.FinalDeadTuples}; (auto)vacuums {v.Vacuums}")));
            rows.Add(new($"{v.Name}: WAL", string.Create(CultureInfo.InvariantCulture, $"{ProgressView.Bytes(v.WalBytes)} = {v.WalBytesPerRow:0} B per inserted row")));
            rows.Add(new($"{v.Name}: maintenance", string.Create(CultureInfo.InvariantCulture, $"{v.MaintenanceRuns} runs, p50 {v.MaintenanceLatencyMs.P50:0.##} ms, p99 {v.MaintenanceLatencyMs.P99:0.##} ms, max {v.MaintenanceLatencyMs.Max:0.##} ms; {v.RowsDeleted} rows deleted, {v.PartitionsDropped} partitions dropped")));
        }

        ChartSeries Series(RetentionVariant v, string color, Func<RetentionSample, double?> value) =>
            new(v.Name, color, [.. v.Samples.Where(s => value(s).HasValue).Select(s => (s.T, value(s)!.Value))]);
        string[] colors = ["#d62728", "#1f77b4"];
        var model = session.Report("retention", summary) with
        {
            Scenarios = [.. variants.Select(v => new ScenarioReport
            {
                Name = "retention_" + v.Name,
                Duration = TimeSpan.FromSeconds(v.Seconds),
                Steps =
                [
                    new StepReport
                    {
                        Name = "insert",
                        Ok = v.RowsInserted,
                        OkRps = v.RowsPerSecond,
                        Latency = ToSummary(v.InsertLatencyMs),
                        DataMeanKb = media.MeanVideoBytes / 1024,
                        DataMinKb = media.VideoFrames.Min(f => f.Length) / 1024.0,
                        DataMaxKb = media.MaxVideoBytes / 1024.0,
                        DataAllMb = v.RowsInserted * media.MeanVideoBytes / 1024 / 1024,
                        Note = "request = one single-row INSERT of a video frame at a steady rate; latency = its round trip",
                    },
                    new StepReport
                    {
                        Name = v.Name == "delete" ? "delete" : "detach_drop",
                        Ok = v.MaintenanceRuns,
                        OkRps = v.MaintenanceRuns / Math.Max(1, v.Seconds),
                        Latency = ToSummary(v.MaintenanceLatencyMs),
                        Note = v.Method,
                    },
                ],
            })],
            Sections = [new ReportSection("retention: DELETE against dropping partitions", rows)],
            Charts =
            [
                new Chart("table + toast size", "bytes", [.. variants.Select((v, i) => Series(v, colors[i % 2], s => s.TotalBytes))]),
                new Chart("dead tuples", "tuples", [.. variants.Select((v, i) => Series(v, colors[i % 2], s => s.DeadTuples))]),
                new Chart("insert latency p99 (per second)", "ms", [.. variants.Select((v, i) => Series(v, colors[i % 2], s => s.InsertP99Ms))]),
                new Chart("WAL rate", "bytes/s", [.. variants.Select((v, i) => Series(v, colors[i % 2], s => s.WalBytesPerSecond))]),
            ],
            Timeline = [["variant", "t_s", "total_bytes", "toast_bytes", "live_tuples", "dead_tuples", "vacuums", "wal_bytes_per_s", "insert_p99_ms", "partitions"],
                .. variants.SelectMany(v => v.Samples.Select(s => (IReadOnlyList<string>)
                [
                    v.Name, ReportWriter.F(s.T, 3), s.TotalBytes.ToString(CultureInfo.InvariantCulture), s.ToastBytes.ToString(CultureInfo.InvariantCulture),
                    s.LiveTuples.ToString(CultureInfo.InvariantCulture), s.DeadTuples.ToString(CultureInfo.InvariantCulture), s.Vacuums.ToString(CultureInfo.InvariantCulture),
                    ReportWriter.F(s.WalBytesPerSecond ?? 0, 0), ReportWriter.F(s.InsertP99Ms, 3), s.Partitions.ToString(CultureInfo.InvariantCulture),
                ]))],
        };
        return session.Finish(model, summary, summary.ExitCode);
    }

    private static LatencySummary ToSummary(LatencyPercentiles p) => new(p.Count, p.Min, p.Mean, p.Max, p.StdDev, p.P50, p.P75, p.P95, p.P99);

    private static async Task<RetentionVariant> RunVariantAsync(string name, RetentionOptions options, MediaLibrary media, string connectionString, ProgressView progress, CancellationToken cancellationToken)
    {
        var partitioned = name == "partitions";
        var table = partitioned ? PartitionedTable : DeleteTable;
        var width = (long)Math.Max(1, options.PartitionWidth.TotalSeconds);
        var keepSeconds = options.Keep.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        if (partitioned)
        {
            await ExecuteAsync(connectionString, $"CREATE TABLE {table} (LIKE {Tables.VideoFrames} INCLUDING DEFAULTS INCLUDING STORAGE) PARTITION BY RANGE (stored_at)", cancellationToken);
        }
        else
        {
            await ExecuteAsync(connectionString, $"CREATE TABLE {table} (LIKE {Tables.VideoFrames} INCLUDING DEFAULTS INCLUDING STORAGE); CREATE INDEX ON {table} (stored_at)", cancellationToken);
        }

        var method = partitioned
            ? $"{width}-second partitions (created ahead, payload EXTERNAL); every {options.DeleteEvery.TotalSeconds:0.#} s: ALTER TABLE … DETACH PARTITION … CONCURRENTLY + DROP TABLE for partitions wholly older than {keepSeconds} s"
            : $"one table with an index on stored_at (payload EXTERNAL); every {options.DeleteEvery.TotalSeconds:0.#} s: DELETE FROM {table} WHERE stored_at < now() - interval '{keepSeconds} s'; autovacuum as configured";
        progress.Log($"variant {name}: {method}");

        await using var admin = await OpenAsync(connectionString, cancellationToken);
        var partitionsDropped = 0L;
        async Task MaintainPartitionsAsync(CancellationToken ct)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var first = (now / width * width) - width;
            for (var start = first; start <= now + (2 * width); start += width)
            {
                await ExecuteAsync(admin, string.Create(CultureInfo.InvariantCulture,
                    $"CREATE TABLE IF NOT EXISTS {table}_p{start} PARTITION OF {table} FOR VALUES FROM (to_timestamp({start})) TO (to_timestamp({start + width}))"), ct);
            }

            var expiredBefore = now - (long)options.Keep.TotalSeconds;
            foreach (var start in await PartitionStartsAsync(admin, table, ct))
            {
                if (start + width <= expiredBefore)
                {
                    await ExecuteAsync(admin, string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE {table} DETACH PARTITION {table}_p{start} CONCURRENTLY"), ct);
                    await ExecuteAsync(admin, string.Create(CultureInfo.InvariantCulture, $"DROP TABLE {table}_p{start}"), ct);
                    partitionsDropped++;
                }
            }
        }

        if (partitioned)
        {
            await MaintainPartitionsAsync(cancellationToken);
        }

        await using var stats = await OpenAsync(connectionString, cancellationToken);
        var insertLatency = new LatencyStats();
        var intervalLatency = new LatencyStats();
        var maintenanceLatency = new LatencyStats();
        var samples = new List<RetentionSample>();
        long inserted = 0, deleted = 0, maintenanceRuns = 0;
        var walStart = await WalPositionAsync(stats, cancellationToken);
        var origin = Stopwatch.GetTimestamp();
        using var stop = new CancellationTokenSource(options.Duration);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cancellationToken);

        var inserter = Task.Run(async () =>
        {
            await using var connection = await OpenAsync(connectionString, CancellationToken.None);
            await using var command = new NpgsqlCommand(
                $"INSERT INTO {table} (call_id, sender_id, sequence, capture_us, received_us, width, height, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", connection);
            for (var p = 0; p < 8; p++)
            {
                command.Parameters.Add(p switch { 7 => new NpgsqlParameter<byte[]>(), 5 or 6 => new NpgsqlParameter<int>(), _ => new NpgsqlParameter<long>() });
            }

            await command.PrepareAsync(CancellationToken.None);
            var period = Stopwatch.Frequency / (double)Math.Max(1, options.RowsPerSecond);
            var start = Stopwatch.GetTimestamp();
            for (long i = 0; !linked.IsCancellationRequested; i++)
            {
                var due = start + (long)(i * period);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency)), linked.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                var payload = media.VideoFrames[(int)(i % media.VideoFrames.Count)];
                var now = Clock.NowMicros;
                ((NpgsqlParameter<long>)command.Parameters[0]).TypedValue = 1;
                ((NpgsqlParameter<long>)command.Parameters[1]).TypedValue = 1;
                ((NpgsqlParameter<long>)command.Parameters[2]).TypedValue = i;
                ((NpgsqlParameter<long>)command.Parameters[3]).TypedValue = now;
                ((NpgsqlParameter<long>)command.Parameters[4]).TypedValue = now;
                ((NpgsqlParameter<int>)command.Parameters[5]).TypedValue = MediaLibrary.VideoWidth;
                ((NpgsqlParameter<int>)command.Parameters[6]).TypedValue = MediaLibrary.VideoHeight;
                ((NpgsqlParameter<byte[]>)command.Parameters[7]).TypedValue = payload;
                var began = Stopwatch.GetTimestamp();
                await command.ExecuteNonQueryAsync(CancellationToken.None);
                var micros = (long)(Stopwatch.GetElapsedTime(began).TotalMilliseconds * 1000);
                insertLatency.Record(micros);
                intervalLatency.Record(micros);
                Interlocked.Increment(ref inserted);
            }
        }, CancellationToken.None);

        var maintenance = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.DeleteEvery);
            try
            {
                while (await timer.WaitForNextTickAsync(linked.Token))
                {
                    var began = Stopwatch.GetTimestamp();
                    if (partitioned)
                    {
                        await MaintainPartitionsAsync(CancellationToken.None);
                    }
                    else
                    {
                        await using var delete = new NpgsqlCommand($"DELETE FROM {table} WHERE stored_at < now() - interval '{keepSeconds} s'", admin);
                        deleted += await delete.ExecuteNonQueryAsync(CancellationToken.None);
                    }

                    maintenanceLatency.Record((long)(Stopwatch.GetElapsedTime(began).TotalMilliseconds * 1000));
                    maintenanceRuns++;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        long? lastWal = walStart;
        var lastTime = origin;
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            try
            {
                while (await timer.WaitForNextTickAsync(linked.Token))
                {
                    var sample = await SampleAsync(stats, table, partitioned, cancellationToken);
                    var now = Stopwatch.GetTimestamp();
                    var wal = await WalPositionAsync(stats, cancellationToken);
                    var rate = (wal - lastWal) / ((now - lastTime) / (double)Stopwatch.Frequency);
                    (lastWal, lastTime) = (wal, now);
                    var entry = sample with
                    {
                        T = Math.Round((now - origin) / (double)Stopwatch.Frequency, 3),
                        WalBytesPerSecond = rate,
                        InsertP99Ms = intervalLatency.SummaryAndReset().P99Ms,
                    };
                    samples.Add(entry);
                    progress.Log(string.Create(CultureInfo.InvariantCulture,
                        $"[{name} {entry.T,5:0}s] size {ProgressView.Bytes(entry.TotalBytes)} (toast {ProgressView.Bytes(entry.ToastBytes)})  live {entry.LiveTuples}  dead {entry.DeadTuples}  vacuums {entry.Vacuums}  WAL {ProgressView.Bytes(entry.WalBytesPerSecond)}/s  insert p99 {entry.InsertP99Ms:0.##} ms  partitions {entry.Partitions}"));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        await inserter;
        await maintenance;
        var seconds = Stopwatch.GetElapsedTime(origin).TotalSeconds;
        var walBytes = await WalPositionAsync(stats, cancellationToken) - walStart;
        var final = await SampleAsync(stats, table, partitioned, cancellationToken);
        await ExecuteAsync(connectionString, $"DROP TABLE IF EXISTS {table}", cancellationToken);

        var variant = new RetentionVariant(
            name,
            method,
            Math.Round(seconds, 3),
            inserted,
            Math.Round(inserted / seconds, 1),
            LatencyPercentiles.From(insertLatency.Summary()),
            LatencyPercentiles.From(maintenanceLatency.Summary()),
            maintenanceRuns,
            deleted,
            partitionsDropped,
            walBytes,
            inserted == 0 ? 0 : Math.Round(walBytes / (double)inserted, 1),
            samples.Select(s => s.TotalBytes).DefaultIfEmpty(final.TotalBytes).Max(),
            final.TotalBytes,
            samples.Select(s => s.ToastBytes).DefaultIfEmpty(final.ToastBytes).Max(),
            final.ToastBytes,
            samples.Select(s => s.DeadTuples).DefaultIfEmpty(final.DeadTuples).Max(),
            final.DeadTuples,
            final.Vacuums,
            samples);
        progress.Log(string.Create(CultureInfo.InvariantCulture,
            $"variant {name}: {variant.RowsInserted} rows ({variant.RowsPerSecond:0.#}/s), insert p50 {variant.InsertLatencyMs.P50:0.##} ms p99 {variant.InsertLatencyMs.P99:0.##} ms; size max {ProgressView.Bytes(variant.MaxTotalBytes)} final {ProgressView.Bytes(variant.FinalTotalBytes)}; dead tuples max {variant.MaxDeadTuples}; vacuums {variant.Vacuums}; WAL {ProgressView.Bytes(variant.WalBytes)} ({variant.WalBytesPerRow:0} B/row)"));
        return variant;
    }

    private static async Task<RetentionSample> SampleAsync(NpgsqlConnection connection, string table, bool partitioned, CancellationToken cancellationToken)
    {
        // The table (or every leaf partition): heap + indexes + TOAST, TOAST alone, tuple counts and vacuums.
        var relations = partitioned
            ? $"SELECT relid FROM pg_partition_tree('{table}') WHERE isleaf"
            : $"SELECT '{table}'::regclass";
        await using var command = new NpgsqlCommand($"""
            SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint,
                   COALESCE(sum(CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END), 0)::bigint,
                   COALESCE(sum(s.n_live_tup), 0)::bigint,
                   COALESCE(sum(s.n_dead_tup), 0)::bigint,
                   COALESCE(sum(s.vacuum_count + s.autovacuum_count), 0)::bigint,
                   count(*)::int
            FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.oid IN ({relations})
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new RetentionSample(0, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), null, 0, partitioned ? reader.GetInt32(5) : 1);
    }

    private static async Task<SortedSet<long>> PartitionStartsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var starts = new SortedSet<long>();
        await using var command = new NpgsqlCommand($"SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '{table}'::regclass", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var prefix = table + "_p";
        while (await reader.ReadAsync(cancellationToken))
        {
            var relation = reader.GetString(0);
            if (relation.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(relation.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                starts.Add(start);
            }
        }

        return starts;
    }

    private static async Task<long> WalPositionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "pgvideochat-loadtests-retention", Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(connectionString, cancellationToken);
        await ExecuteAsync(connection, sql, cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
