using System.Diagnostics;
using System.Globalization;
using Npgsql;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>
/// <c>baseline</c>: what Postgres itself sustains on this machine for the relay's workload. The same rows the relay
/// writes (video_frames/audio_frames, same columns and payload sizes, 15 video : 25 audio) are INSERTed as fast as
/// possible — first single-row autocommit INSERTs, then NpgsqlBatch — while a plain reader (Npgsql
/// LogicalReplicationConnection, temporary pgoutput slot on publication <c>pgvideochat</c>, binary) drains them,
/// reading every payload like the relay does. The relay is stopped meanwhile so that its walsender does not decode the
/// same WAL (<c>--keep-relay</c> to leave it).
/// </summary>
internal static class BaselineRunner
{
    // Call ids far from any real call mark the phase a row belongs to (there is no FK on the frame tables).
    private const long PhaseCallIdBase = 9_000_000_000;

    public static async Task<RunResult<BaselineSummary>> RunAsync(BaselineOptions options, CancellationToken cancellationToken)
    {
        await using var session = RunSession.Begin("baseline", options.Output, plain: true);
        await session.OpenTargetAsync(options.Target, cancellationToken);
        return await RunAsync(options, session, cancellationToken);
    }

    /// <summary>The baseline on a target already open: <c>capacity --baseline</c> measures the same Postgres after its levels.</summary>
    public static async Task<RunResult<BaselineSummary>> RunAsync(BaselineOptions options, RunSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(session);
        var (target, progress) = (session.Target, session.Progress);
        progress.Log($"session {session.Id}: baseline, {Durations.Format(options.Duration)} split between single-row INSERTs, NpgsqlBatch of {options.BatchSize} and binary COPY of {options.BatchSize}, {options.Writers} writer(s)");
        var media = session.CreateMedia(options.Media);
        var connectionString = session.ConnectionString;
        await EnsureSchemaAsync(connectionString, cancellationToken);
        var relayStopped = options.StopRelay && await target.StopRelayAsync();
        progress.Log(relayStopped
            ? "relay stopped for the measurement (its slot retains the WAL meanwhile; the app model is thrown away afterwards)"
            : "relay left running: its walsender decodes the same WAL");

        var reader = new BaselineReader(connectionString, options.PgOutputProtocolVersion);
        using var readerStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readerTask = Task.Run(() => reader.RunAsync(readerStop.Token), CancellationToken.None);
        await reader.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        progress.Log($"reader: temporary slot {reader.SlotName} on publication pgvideochat, pgoutput v{options.PgOutputProtocolVersion}, binary");

        var samples = new List<BaselineSample>();
        var phaseDuration = options.Duration / 3;
        var phases = new List<BaselinePhase>();
        var scenarios = new List<ScenarioReport>();
        var sampleOrigin = Stopwatch.GetTimestamp();
        await using var probe = new PostgresProbe(connectionString, slotPrefix: reader.SlotName);
        foreach (var (name, batchSize, copy) in new[] { ("single_row", 1, false), ("batched", options.BatchSize, false), ("copy", options.BatchSize, true) })
        {
            var phaseIndex = phases.Count + 1;
            var counters = new PhaseCounters(PhaseCallIdBase + phaseIndex);
            reader.Track(counters);
            var walBefore = (await probe.ReadAsync(cancellationToken))?.WalPosition ?? 0;
            using var phaseStop = new CancellationTokenSource(phaseDuration);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(phaseStop.Token, cancellationToken);
            var pgCpu = new CpuMeter(() => target.PostgresPid is { } pid ? ProcStats.Tree(pid)?.CpuSeconds : null);
            pgCpu.Sample();
            var machine = ProcStats.Machine();
            var phaseSamples = new List<BaselineSample>();
            var writeStart = Stopwatch.GetTimestamp();
            counters.FirstWriteTimestamp = writeStart;
            var writers = Enumerable.Range(0, Math.Max(1, options.Writers))
                .Select(w => Task.Run(() => BaselineWriter.WriteAsync(connectionString, media, counters, batchSize, copy, w, linked.Token), CancellationToken.None))
                .ToArray();
            var sampling = SampleAsync(name, counters, probe, pgCpu, sampleOrigin, phaseSamples, progress, linked.Token);
            await Task.WhenAll(writers);
            var writeSeconds = Stopwatch.GetElapsedTime(writeStart).TotalSeconds;
            cancellationToken.ThrowIfCancellationRequested();
            await sampling.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // Let the reader finish what was written (the decode rate counts until its last row).
            var catchUpStart = Stopwatch.GetTimestamp();
            while (counters.Decoded < counters.Written && Stopwatch.GetElapsedTime(catchUpStart) < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(50, cancellationToken);
            }

            var catchUp = counters.Decoded >= counters.Written ? Math.Max(0, (counters.LastDecodeTimestamp - (writeStart + (long)(writeSeconds * Stopwatch.Frequency))) / (double)Stopwatch.Frequency) : (double?)null;
            var walAfter = (await probe.ReadAsync(cancellationToken))?.WalPosition ?? walBefore;
            var (machineCpu, steal) = machine is { } before && ProcStats.Machine() is { } after && after.Total > before.Total
                ? (100.0 * (after.Busy - before.Busy) / (after.Total - before.Total), 100.0 * (after.Steal - before.Steal) / (after.Total - before.Total))
                : ((double?)null, (double?)null);
            var decodeSeconds = Math.Max(0.001, (counters.LastDecodeTimestamp - writeStart) / (double)Stopwatch.Frequency);
            var rowsPerCall = RowsPerSecondPerCall(options.Media);
            var phase = new BaselinePhase(
                name,
                batchSize == 1 ? "single-row INSERT, autocommit" : copy ? $"binary COPY of {batchSize} rows (one per table, one transaction)" : $"NpgsqlBatch of {batchSize} INSERTs (one transaction)",
                Math.Round(writeSeconds, 3),
                counters.Written,
                counters.VideoWritten,
                counters.Written - counters.VideoWritten,
                Math.Round(counters.Written / writeSeconds, 1),
                Math.Round(counters.BytesWritten / 1e6 / writeSeconds, 2),
                counters.Decoded,
                Math.Round(decodeSeconds, 3),
                Math.Round(counters.Decoded / decodeSeconds, 1),
                Math.Round(counters.BytesDecoded / 1e6 / decodeSeconds, 2),
                catchUp is < 1.0,
                catchUp is { } c ? Math.Round(c, 3) : null,
                LatencyPercentiles.From(counters.InsertLatency.Summary()),
                LatencyPercentiles.From(counters.DecodeLatency.Summary()),
                walAfter - walBefore,
                counters.Written == 0 ? 0 : Math.Round((walAfter - walBefore) / (double)counters.Written, 1),
                phaseSamples.Count == 0 ? null : Math.Round(phaseSamples.Where(s => s.PostgresCpu.HasValue).Select(s => s.PostgresCpu!.Value).DefaultIfEmpty().Average(), 1),
                machineCpu is { } mc ? Math.Round(mc, 1) : null,
                steal is { } st ? Math.Round(st, 1) : null,
                Math.Round(Math.Min(counters.Written / writeSeconds, counters.Decoded / decodeSeconds) / rowsPerCall, 1));
            phases.Add(phase);
            samples.AddRange(phaseSamples);
            scenarios.Add(Scenario(name, phase, counters, writeSeconds, decodeSeconds));
            progress.Log(string.Create(CultureInfo.InvariantCulture,
                $"{name}: wrote {phase.RowsWritten} rows in {phase.WriteSeconds:0.0} s = {phase.RowsWrittenPerSecond:0} rows/s, {phase.MbWrittenPerSecond:0.0} MB/s; decoded {phase.RowsDecoded} = {phase.RowsDecodedPerSecond:0} rows/s, {phase.MbDecodedPerSecond:0.0} MB/s (caught up {(phase.ReaderCatchUpSeconds is { } cu ? cu.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "never")} after the writers stopped); insert->decode p50 {phase.InsertToDecodeLatencyMs.P50:0.#} ms, p99 {phase.InsertToDecodeLatencyMs.P99:0.#} ms; WAL {phase.WalBytesPerRow:0} B/row; ≈ {phase.EquivalentCalls:0.#} calls"));
        }

        await readerStop.CancelAsync();
        await readerTask.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (readerTask.Exception is { } failure)
        {
            progress.Log($"reader ended with {failure.InnerException?.GetType().Name}: {failure.InnerException?.Message}");
        }

        var summary = session.Stamp(new BaselineSummary
        {
            RelayStopped = relayStopped,
            PgOutputProtocolVersion = options.PgOutputProtocolVersion,
            Writers = Math.Max(1, options.Writers),
            BatchSize = options.BatchSize,
            RowMix = string.Create(CultureInfo.InvariantCulture, $"3 video ({media.MeanVideoBytes / 1000:0.0} KB mean, {media.VideoFrames.Min(f => f.Length)}-{media.MaxVideoBytes} B) : 5 audio ({media.AudioFrameBytes} B), i.e. 15 fps video : 25 fps audio"),
            RowsPerSecondPerCall = RowsPerSecondPerCall(options.Media),
            MbPerSecondPerCall = Math.Round(MbPerSecondPerCall(options.Media, media), 3),
            Phases = phases,
            ExitCode = phases.All(p => p.RowsDecoded > 0) ? CallsRunner.ExitPassed : CallsRunner.ExitThresholdsFailed,
        });

        var rows = new List<KeyValuePair<string, string>>
        {
            new("row mix", summary.RowMix),
            new("one call of the standard profile", string.Create(CultureInfo.InvariantCulture, $"{summary.RowsPerSecondPerCall} rows/s, {summary.MbPerSecondPerCall:0.###} MB/s (2 participants × (15 video + 25 audio) frames/s)")),
            new("relay during the measurement", relayStopped ? "stopped" : "running (its walsender decodes the same WAL)"),
        };
        foreach (var p in phases)
        {
            rows.Add(new($"{p.Name}: written", string.Create(CultureInfo.InvariantCulture, $"{p.RowsWrittenPerSecond:0} rows/s, {p.MbWrittenPerSecond:0.##} MB/s ({p.Writer}, {summary.Writers} writer(s))")));
            rows.Add(new($"{p.Name}: decoded", string.Create(CultureInfo.InvariantCulture, $"{p.RowsDecodedPerSecond:0} rows/s, {p.MbDecodedPerSecond:0.##} MB/s; reader {(p.ReaderKeptUp ? "kept up" : "fell behind")} (caught up {(p.ReaderCatchUpSeconds is { } cu ? cu.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "never")} after the writers stopped)")));
            rows.Add(new($"{p.Name}: latency", string.Create(CultureInfo.InvariantCulture, $"insert p50 {p.InsertLatencyMs.P50:0.##} ms, p99 {p.InsertLatencyMs.P99:0.##} ms; insert→decoded p50 {p.InsertToDecodeLatencyMs.P50:0.##} ms, p99 {p.InsertToDecodeLatencyMs.P99:0.##} ms")));
            rows.Add(new($"{p.Name}: WAL", string.Create(CultureInfo.InvariantCulture, $"{ProgressView.Bytes(p.WalBytes)} = {p.WalBytesPerRow:0} B/row")));
            rows.Add(new($"{p.Name}: cpu", $"postgres {ProgressView.Pct(p.PostgresMeanCpuPercent)} (100 % = one core), machine {ProgressView.Pct(p.MachineMeanCpuPercent)} of all cores, of which stolen by the hypervisor {ProgressView.Pct(p.StealMeanPercent)}"));
            rows.Add(new($"{p.Name}: equivalent calls", string.Create(CultureInfo.InvariantCulture, $"{p.EquivalentCalls:0.#} (min(written, decoded) rows/s ÷ {summary.RowsPerSecondPerCall} rows/s per call)")));
        }

        var origin = samples.Count == 0 ? 0 : samples[0].T;
        ChartSeries S(string n, string color, Func<BaselineSample, double?> v) => new(n, color, [.. samples.Where(s => v(s).HasValue).Select(s => (s.T - origin, v(s)!.Value))]);
        var model = session.Report("baseline", summary) with
        {
            Scenarios = scenarios,
            Sections = [new ReportSection("substrate baseline", rows), session.Host!.Section()],
            Charts =
            [
                new Chart("rows per second", "rows/s", [S("written", "#1f77b4", s => s.WrittenPerSecond), S("decoded", "#2ca02c", s => s.DecodedPerSecond)]),
                new Chart("reader slot lag", "bytes", [S("wal_lsn - confirmed_flush", "#d62728", s => s.LagBytes)]),
                new Chart("WAL and postgres cpu", "bytes/s | %", [S("WAL bytes/s", "#17becf", s => s.WalBytesPerSecond), S("postgres cpu %", "#8c564b", s => s.PostgresCpu)]),
            ],
            Timeline = [["t_s", "phase", "written_per_s", "decoded_per_s", "lag_bytes", "wal_bytes_per_s", "postgres_cpu_pct"],
                .. samples.Select(s => (IReadOnlyList<string>)[ReportWriter.F(s.T - origin, 3), s.Phase, ReportWriter.F(s.WrittenPerSecond, 1), ReportWriter.F(s.DecodedPerSecond, 1), s.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? string.Empty, ReportWriter.F(s.WalBytesPerSecond ?? 0, 0), ReportWriter.F(s.PostgresCpu ?? 0, 1)])],
        };
        return session.Finish(model, summary, summary.ExitCode);
    }

    internal static double RowsPerSecondPerCall(MediaProfile profile) => 2 * ((profile.Video ? profile.VideoFps : 0) + (profile.Audio ? 1 / profile.AudioInterval.TotalSeconds : 0));

    private static double MbPerSecondPerCall(MediaProfile profile, MediaLibrary media) =>
        2 * ((profile.VideoFps * media.MeanVideoBytes) + (media.AudioFrameBytes / profile.AudioInterval.TotalSeconds)) / 1e6;

    private static async Task EnsureSchemaAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT to_regclass('{Tables.VideoFrames}') IS NOT NULL AND to_regclass('{Tables.AudioFrames}') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_publication WHERE pubname = '{Publications.All}')", connection);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            throw new InvalidOperationException($"The frame tables or the publication {Publications.All} do not exist: the relay migrates the schema when it starts; start it once first.");
        }
    }

    private static ScenarioReport Scenario(string name, BaselinePhase phase, PhaseCounters counters, double writeSeconds, double decodeSeconds)
    {
        var meanKb = counters.Written == 0 ? 0 : counters.BytesWritten / 1024.0 / counters.Written;
        return new ScenarioReport
        {
            Name = "baseline_" + name,
            Duration = TimeSpan.FromSeconds(writeSeconds),
            Steps =
            [
                new StepReport
                {
                    Name = "insert",
                    Ok = counters.Written,
                    Failed = counters.Failed,
                    OkRps = counters.Written / writeSeconds,
                    FailRps = counters.Failed / writeSeconds,
                    Latency = counters.InsertLatency.Summary(),
                    DataMinKb = counters.MinBytes / 1024.0,
                    DataMeanKb = meanKb,
                    DataMaxKb = counters.MaxBytes / 1024.0,
                    DataAllMb = counters.BytesWritten / 1024.0 / 1024.0,
                    Note = $"request = one row INSERTed ({phase.Writer}); latency = the statement's (or the batch's) round trip; RPS = rows/s",
                },
                new StepReport
                {
                    Name = "decode",
                    Ok = counters.Decoded,
                    Failed = Math.Max(0, counters.Written - counters.Decoded),
                    OkRps = counters.Decoded / decodeSeconds,
                    Latency = counters.DecodeLatency.Summary(),
                    DataMinKb = counters.MinBytes / 1024.0,
                    DataMeanKb = counters.Decoded == 0 ? 0 : counters.BytesDecoded / 1024.0 / counters.Decoded,
                    DataMaxKb = counters.MaxBytes / 1024.0,
                    DataAllMb = counters.BytesDecoded / 1024.0 / 1024.0,
                    Note = "request = one row received from the temporary pgoutput slot with its payload read; latency = received − the row's capture_us (set just before its INSERT); RPS over first write → last row decoded; fail = written but not decoded",
                },
            ],
        };
    }

    private static async Task SampleAsync(string phase, PhaseCounters counters, PostgresProbe probe, CpuMeter pgCpu, long origin, List<BaselineSample> samples, ProgressView progress, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long lastWritten = 0, lastDecoded = 0;
        var lastTime = Stopwatch.GetTimestamp();
        long? lastWal = null;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var reading = await probe.ReadAsync(cancellationToken);
                var now = Stopwatch.GetTimestamp();
                var seconds = (now - lastTime) / (double)Stopwatch.Frequency;
                var written = counters.Written;
                var decoded = counters.Decoded;
                var sample = new BaselineSample(
                    (now - origin) / (double)Stopwatch.Frequency,
                    phase,
                    (written - lastWritten) / seconds,
                    (decoded - lastDecoded) / seconds,
                    reading?.SlotLagBytes,
                    reading is { } r && lastWal is { } w ? (r.WalPosition - w) / seconds : null,
                    pgCpu.Sample());
                samples.Add(sample);
                progress.Log(string.Create(CultureInfo.InvariantCulture,
                    $"[{phase}] written {sample.WrittenPerSecond,6:0}/s  decoded {sample.DecodedPerSecond,6:0}/s  reader lag {ProgressView.Bytes(sample.LagBytes)}  WAL {ProgressView.Bytes(sample.WalBytesPerSecond)}/s  postgres cpu {ProgressView.Pct(sample.PostgresCpu)}"));
                (lastWritten, lastDecoded, lastTime, lastWal) = (written, decoded, now, reading?.WalPosition ?? lastWal);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record BaselineSample(double T, string Phase, double WrittenPerSecond, double DecodedPerSecond, long? LagBytes, double? WalBytesPerSecond, double? PostgresCpu);
}
