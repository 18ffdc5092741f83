using System.Diagnostics;
using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.LoadTests.Target;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>One second of a run: the load, what arrived and how fast, and what the relay and Postgres looked like.</summary>
public sealed record Sample
{
    /// <summary>Seconds since the run (warm-up included) started.</summary>
    public double T { get; init; }

    /// <summary>Wall-clock time of the sample, to line the timeline up with Postgres's and the relay's logs.</summary>
    public DateTimeOffset Utc { get; init; }

    public string Phase { get; init; } = string.Empty;

    public int Calls { get; init; }

    public int Participants { get; init; }

    public long VideoSent { get; init; }

    public long AudioSent { get; init; }

    public long VideoDelivered { get; init; }

    public long AudioDelivered { get; init; }

    public double VideoP50Ms { get; init; }

    public double VideoP99Ms { get; init; }

    public double VideoMaxMs { get; init; }

    public double AudioP50Ms { get; init; }

    public double AudioP99Ms { get; init; }

    public double AudioMaxMs { get; init; }

    /// <summary>How late the runner's senders were against their schedule (p99).</summary>
    public double SendLatenessP99Ms { get; init; }

    /// <summary>From Postgres: <c>pg_current_wal_lsn() - confirmed_flush_lsn</c>, the largest of the relays' slots.</summary>
    public long? SlotLagBytes { get; init; }

    /// <summary>From the relays' <c>pgvideochat_replication_lag_bytes</c> (the largest).</summary>
    public double? RelayLagBytes { get; init; }

    /// <summary>From the relays' <c>pgvideochat_replication_lag_seconds</c> (the largest).</summary>
    public double? RelayLagSeconds { get; init; }

    public double? WalBytesPerSecond { get; init; }

    /// <summary>Bytes written to the machine's disks this second (WAL, data pages, checkpoints, and anything else).</summary>
    public double? DiskWriteBytesPerSecond { get; init; }

    /// <summary>From <c>pg_stat_wal</c>: WAL syncs this second (each commit waits for one, alone or in a group).</summary>
    public double? WalSyncsPerSecond { get; init; }

    /// <summary>This second's mean WAL sync time (null when <c>track_wal_io_timing</c> is off).</summary>
    public double? WalSyncMeanMs { get; init; }

    /// <summary>Segment files in <c>pg_wal</c>: it grows while Postgres creates segments instead of recycling them.</summary>
    public int? WalSegmentFiles { get; init; }

    /// <summary>CPU of every relay process, summed (100 % = one core).</summary>
    public double? RelayCpuPercent { get; init; }

    /// <summary>RSS of every relay process, summed.</summary>
    public long? RelayRssBytes { get; init; }

    /// <summary>How many relays the target runs (behind the front door when more than one).</summary>
    public int RelayCount { get; init; } = 1;

    /// <summary>Each relay on its own: CPU, RSS, its slot's lag, whether its /metrics answered this second.</summary>
    public IReadOnlyList<RelaySample> Relays { get; init; } = [];

    /// <summary>The front door's CPU (null without one): part of the cost of scaling out.</summary>
    public double? FrontDoorCpuPercent { get; init; }

    public long? FrontDoorRssBytes { get; init; }

    public double? PostgresCpuPercent { get; init; }

    public long? PostgresRssBytes { get; init; }

    /// <summary>CPU of Postgres's walsenders, summed (part of <see cref="PostgresCpuPercent"/>): each decodes all WAL for its relay's slot.</summary>
    public double? WalsenderCpuPercent { get; init; }

    /// <summary>How many walsenders Postgres runs (one per connected relay).</summary>
    public int? Walsenders { get; init; }

    public double RunnerCpuPercent { get; init; }

    public double? MachineCpuPercent { get; init; }

    /// <summary>CPU time the hypervisor took from this VM, in percent of all cores (part of <see cref="MachineCpuPercent"/>).</summary>
    public double? StealPercent { get; init; }

    /// <summary>Summed over the relays, as are the per-second rates below.</summary>
    public double? IngestQueueDepth { get; init; }

    public double? FanOutQueueDepth { get; init; }

    public double? RelayIngestedPerSecond { get; init; }

    public double? RelayForwardedPerSecond { get; init; }

    public double? RelayDroppedPerSecond { get; init; }

    /// <summary>
    /// This second's mean of the relays' <c>pgvideochat_forward_latency</c> (frame received → handed to a recipient's
    /// send queue: ingest queue, commit, WAL, slot, dispatch): with the end-to-end latency it says whether a slow
    /// second was spent inside the relay and Postgres or outside (the sockets, the runner).
    /// </summary>
    public double? RelayForwardMeanMs { get; init; }

    /// <summary>This second's mean group-commit round trip (<c>pgvideochat_ingest_insert_duration</c>).</summary>
    public double? IngestCommitMeanMs { get; init; }

    /// <summary>The recordings' partitions, all of them (pg_total_relation_size); null without a connection string.</summary>
    public long? RecordedBytes { get; init; }

    /// <summary>Milliseconds per second the relays' rotation spent copying recorded frames out (pgvideochat_recordings_copy_duration_seconds_total).</summary>
    public double? RecordingCopyMsPerSecond { get; init; }

    /// <summary>Recorded frames copied out per second (pgvideochat_recordings_copied_total).</summary>
    public double? RecordingFramesCopiedPerSecond { get; init; }
}

/// <summary>One relay in one second of a run; <see cref="Clients"/> is its <c>pgvideochat_clients_connected</c> (where the front door placed the WebSockets).</summary>
public sealed record RelaySample(string Name, double? CpuPercent, long? RssBytes, long? SlotLagBytes, bool MetricsScraped, double? Clients);

/// <summary>
/// Once a second: the engine's interval figures, every relay's own <c>/metrics</c> (merged: counters summed, slot lag
/// the largest), the slot lag and WAL position from Postgres, and CPU/RSS of the relays (summed, and each), the front
/// door, the Postgres server (postmaster and backends) and its walsenders alone, this runner and the machine.
/// </summary>
internal sealed class Sampler : IAsyncDisposable
{
    private readonly Func<IntervalFigures?> _interval;
    private readonly Func<(int Calls, int Participants)> _load;
    private readonly IReadOnlyList<RelayInstance> _relays;
    private readonly Func<int?> _frontDoorPid;
    private readonly Func<int?> _postgresPid;
    private readonly RelayMetricsScraper[] _metrics;
    private readonly Dictionary<string, double>?[] _lastScrapes;
    private readonly PostgresProbe? _postgres;
    private readonly Action<Sample>? _onSample;
    private readonly List<Sample> _samples = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly CpuMeter _runnerCpu = new(() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    private readonly CpuMeter _postgresCpu;
    private readonly ProcessSetCpuMeter _walsenderCpu;
    private readonly CpuMeter[] _relayCpu;
    private readonly CpuMeter _frontDoorCpu;
    private (long Busy, long Steal, long Total)? _lastMachine;
    private (long Bytes, long Timestamp)? _lastDisk;
    private (long Position, long Timestamp)? _lastWal;
    private WalFlushes? _lastFlushes;
    private Dictionary<string, double>? _lastCounters;
    private long _lastCountersTimestamp;
    private Task? _loop;
    private bool _disposed;
    private volatile string _phase = "warm-up";

    public Sampler(
        LoadTarget target,
        Func<IntervalFigures?> interval,
        Func<(int Calls, int Participants)> load,
        Action<Sample>? onSample)
    {
        ArgumentNullException.ThrowIfNull(target);
        _interval = interval;
        _load = load;
        _relays = target.Relays;
        _frontDoorPid = () => target.FrontDoorPid;
        _postgresPid = () => target.PostgresPid;
        _onSample = onSample;
        // Each relay is scraped on its own URL, not through the front door (which would pick one at random).
        _metrics = [.. _relays.Select(r => new RelayMetricsScraper(r.Url))];
        _lastScrapes = new Dictionary<string, double>?[_relays.Count];
        _postgres = target.ConnectionString is { } cs ? new PostgresProbe(cs, target.SlotNames) : null;
        _relayCpu = [.. _relays.Select(r => new CpuMeter(() => r.Pid() is { } pid ? ProcStats.CpuSeconds(pid) : null))];
        _frontDoorCpu = new CpuMeter(() => _frontDoorPid() is { } pid ? ProcStats.CpuSeconds(pid) : null);
        _postgresCpu = new CpuMeter(() => _postgresPid() is { } pid ? ProcStats.Tree(pid)?.CpuSeconds : null);
        _walsenderCpu = new ProcessSetCpuMeter(() => _postgresPid() is { } pid ? ProcStats.Walsenders(pid) : null);
    }

    public string Phase
    {
        get => _phase;
        set => _phase = value;
    }

    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    public Sample? Latest
    {
        get
        {
            lock (_gate)
            {
                return _samples.Count == 0 ? null : _samples[^1];
            }
        }
    }

    public double Elapsed => Stopwatch.GetElapsedTime(_origin).TotalSeconds;

    public void Start()
    {
        // Prime the deltas so that the first sample already has rates.
        _runnerCpu.Sample();
        foreach (var meter in _relayCpu)
        {
            meter.Sample();
        }

        _frontDoorCpu.Sample();
        _postgresCpu.Sample();
        _walsenderCpu.Sample();
        _lastMachine = ProcStats.Machine();
        _lastDisk = ProcStats.DiskBytesWritten() is { } disk ? (disk, Stopwatch.GetTimestamp()) : null;
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var sample = await SampleAsync(cancellationToken);
                lock (_gate)
                {
                    _samples.Add(sample);
                }

                _onSample?.Invoke(sample);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sum of the values that could be read; null when none could.</summary>
    private static double? Sum(IReadOnlyList<double?> values) => values.Any(v => v.HasValue) ? values.Sum(v => v ?? 0) : null;

    private async Task<Sample> SampleAsync(CancellationToken cancellationToken)
    {
        var scrapeTasks = _metrics.Select(m => m.ScrapeAsync(cancellationToken)).ToArray();
        var postgresTask = _postgres is null ? Task.FromResult<PostgresReading?>(null) : _postgres.ReadAsync(cancellationToken);
        var figures = _interval();
        var (calls, participants) = _load();
        var postgresPid = _postgresPid();
        var relayCpus = _relayCpu.Select(m => m.Sample()).ToArray();
        var relayRss = _relays.Select(r => r.Pid() is { } pid ? ProcStats.RssBytes(pid) : null).ToArray();
        var frontDoorCpu = _frontDoorCpu.Sample();
        var frontDoorRss = _frontDoorPid() is { } fp ? ProcStats.RssBytes(fp) : null;
        var postgresTree = postgresPid is { } pp ? ProcStats.Tree(pp) : null;
        var postgresCpu = _postgresCpu.Sample(postgresTree?.CpuSeconds);
        var (walsenderCpu, walsenders) = _walsenderCpu.Sample();
        var runnerCpu = _runnerCpu.Sample() ?? 0;
        double? machineCpu = null, steal = null;
        if (ProcStats.Machine() is { } machine)
        {
            if (_lastMachine is { } last && machine.Total > last.Total)
            {
                machineCpu = 100.0 * (machine.Busy - last.Busy) / (machine.Total - last.Total);
                steal = 100.0 * (machine.Steal - last.Steal) / (machine.Total - last.Total);
            }

            _lastMachine = machine;
        }

        double? diskWrites = null;
        if (ProcStats.DiskBytesWritten() is { } diskBytes)
        {
            var at = Stopwatch.GetTimestamp();
            if (_lastDisk is { } lastDisk && at > lastDisk.Timestamp)
            {
                diskWrites = (diskBytes - lastDisk.Bytes) / ((at - lastDisk.Timestamp) / (double)Stopwatch.Frequency);
            }

            _lastDisk = (diskBytes, at);
        }

        // A relay whose /metrics did not answer this second counts with its previous scrape (its counters only grow),
        // so that one slow relay does not make the sums dip; with no answer from any relay there are no metrics.
        var scrapes = await Task.WhenAll(scrapeTasks);
        for (var i = 0; i < scrapes.Length; i++)
        {
            _lastScrapes[i] = scrapes[i] ?? _lastScrapes[i];
        }

        var metrics = scrapes.All(s => s is null) ? null : RelayMetricsScraper.Merge(_lastScrapes.OfType<Dictionary<string, double>>());
        var postgres = await postgresTask;
        double? walRate = null;
        double? walSyncs = null;
        double? walSyncMean = null;
        var now = Stopwatch.GetTimestamp();
        if (postgres is { } reading)
        {
            var lastWalTimestamp = _lastWal?.Timestamp;
            if (_lastWal is { } lastWal && now > lastWal.Timestamp)
            {
                walRate = (reading.WalPosition - lastWal.Position) / ((now - lastWal.Timestamp) / (double)Stopwatch.Frequency);
            }

            _lastWal = (reading.WalPosition, now);
            if (reading.Flushes is { } flushes)
            {
                if (_lastFlushes is { } previous && lastWalTimestamp is { } since && now > since)
                {
                    var syncs = flushes.Syncs - previous.Syncs;
                    walSyncs = syncs / ((now - since) / (double)Stopwatch.Frequency);
                    walSyncMean = syncs > 0 && flushes.SyncMilliseconds is { } ms && previous.SyncMilliseconds is { } before ? (ms - before) / syncs : null;
                }

                _lastFlushes = flushes;
            }
        }

        double? Rate(string name)
        {
            if (metrics is null || _lastCounters is null || !metrics.TryGetValue(name, out var value) || now <= _lastCountersTimestamp)
            {
                return null;
            }

            var previous = _lastCounters.GetValueOrDefault(name);
            return Math.Max(0, (value - previous) / ((now - _lastCountersTimestamp) / (double)Stopwatch.Frequency));
        }

        double? IntervalMeanMs(string histogram) => metrics is null || _lastCounters is null ? null : RelayMetricsScraper.IntervalMean(_lastCounters, metrics, histogram) * 1000;

        var relays = _relays.Select((r, i) => new RelaySample(
            r.Name,
            relayCpus[i],
            relayRss[i],
            r.SlotName is { } slot && postgres?.Lags.TryGetValue(slot, out var lag) == true ? lag : _relays.Count == 1 ? postgres?.SlotLagBytes : null,
            scrapes[i] is not null,
            scrapes[i]?.GetValueOrDefault("pgvideochat_clients_connected"))).ToList();
        var sample = new Sample
        {
            T = Math.Round(Elapsed, 3),
            Utc = DateTimeOffset.UtcNow,
            Phase = _phase,
            Calls = calls,
            Participants = participants,
            VideoSent = figures?.VideoSent ?? 0,
            AudioSent = figures?.AudioSent ?? 0,
            VideoDelivered = figures?.VideoDelivered ?? 0,
            AudioDelivered = figures?.AudioDelivered ?? 0,
            VideoP50Ms = figures?.VideoLatency.P50Ms ?? 0,
            VideoP99Ms = figures?.VideoLatency.P99Ms ?? 0,
            VideoMaxMs = figures?.VideoLatency.MaxMs ?? 0,
            AudioP50Ms = figures?.AudioLatency.P50Ms ?? 0,
            AudioP99Ms = figures?.AudioLatency.P99Ms ?? 0,
            AudioMaxMs = figures?.AudioLatency.MaxMs ?? 0,
            SendLatenessP99Ms = figures?.SendLateness.P99Ms ?? 0,
            SlotLagBytes = postgres?.SlotLagBytes,
            RelayLagBytes = metrics?.GetValueOrDefault("pgvideochat_replication_lag_bytes"),
            RelayLagSeconds = metrics?.GetValueOrDefault("pgvideochat_replication_lag_seconds"),
            WalBytesPerSecond = walRate,
            DiskWriteBytesPerSecond = diskWrites,
            WalSyncsPerSecond = walSyncs,
            WalSyncMeanMs = walSyncMean,
            WalSegmentFiles = postgres?.Flushes?.SegmentFiles,
            RelayCpuPercent = Sum(relayCpus),
            RelayRssBytes = relayRss.Any(v => v.HasValue) ? relayRss.Sum(v => v ?? 0) : null,
            RelayCount = _relays.Count,
            Relays = relays,
            FrontDoorCpuPercent = frontDoorCpu,
            FrontDoorRssBytes = frontDoorRss,
            PostgresCpuPercent = postgresCpu,
            PostgresRssBytes = postgresTree?.RssBytes,
            WalsenderCpuPercent = walsenderCpu,
            Walsenders = walsenders,
            RunnerCpuPercent = runnerCpu,
            MachineCpuPercent = machineCpu,
            StealPercent = steal,
            IngestQueueDepth = metrics?.GetValueOrDefault("pgvideochat_ingest_queue_depth"),
            FanOutQueueDepth = metrics?.GetValueOrDefault("pgvideochat_fanout_queue_depth"),
            RelayIngestedPerSecond = Rate("pgvideochat_frames_ingested_total"),
            RelayForwardedPerSecond = Rate("pgvideochat_frames_forwarded_total"),
            RelayDroppedPerSecond = Rate("pgvideochat_frames_dropped_total"),
            RelayForwardMeanMs = IntervalMeanMs("pgvideochat_forward_latency_seconds"),
            IngestCommitMeanMs = IntervalMeanMs("pgvideochat_ingest_insert_duration_seconds"),
            RecordedBytes = postgres?.RecordedBytes,
            RecordingCopyMsPerSecond = Rate("pgvideochat_recordings_copy_duration_seconds_total") * 1000,
            RecordingFramesCopiedPerSecond = Rate("pgvideochat_recordings_copied_total"),
        };

        if (metrics is not null)
        {
            _lastCounters = metrics;
            _lastCountersTimestamp = now;
        }

        return sample;
    }

    /// <summary>The relays' counters as last scraped, summed over the relays (for the report's "relay counters" section).</summary>
    public IReadOnlyDictionary<string, double> LastMetrics => _lastCounters ?? [];

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var scraper in _metrics)
        {
            scraper.Dispose();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _stop.Dispose();
    }
}
