using System.Diagnostics;
using PgVideoChat.LoadTests.Scenario;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>One second of a run: the load, what arrived and how fast, and what the relay and Postgres looked like.</summary>
public sealed record Sample
{
    /// <summary>Seconds since the run (warm-up included) started.</summary>
    public double T { get; init; }

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

    /// <summary>From the relay's <c>pgvideochat_replication_lag_bytes</c>.</summary>
    public double? RelayLagBytes { get; init; }

    /// <summary>From the relay's <c>pgvideochat_replication_lag_seconds</c>.</summary>
    public double? RelayLagSeconds { get; init; }

    public double? WalBytesPerSecond { get; init; }

    public double? RelayCpuPercent { get; init; }

    public long? RelayRssBytes { get; init; }

    public double? PostgresCpuPercent { get; init; }

    public long? PostgresRssBytes { get; init; }

    public double RunnerCpuPercent { get; init; }

    public double? MachineCpuPercent { get; init; }

    public double? IngestQueueDepth { get; init; }

    public double? FanOutQueueDepth { get; init; }

    public double? RelayIngestedPerSecond { get; init; }

    public double? RelayForwardedPerSecond { get; init; }

    public double? RelayDroppedPerSecond { get; init; }
}

/// <summary>
/// Once a second: the engine's interval figures, the relay's <c>/metrics</c>, the slot lag and WAL position from
/// Postgres, and CPU/RSS of the relay, the Postgres server (postmaster and backends), this runner and the machine.
/// </summary>
internal sealed class Sampler : IAsyncDisposable
{
    private readonly Func<IntervalFigures?> _interval;
    private readonly Func<(int Calls, int Participants)> _load;
    private readonly Func<int?> _relayPid;
    private readonly Func<int?> _postgresPid;
    private readonly RelayMetricsScraper? _metrics;
    private readonly PostgresProbe? _postgres;
    private readonly Action<Sample>? _onSample;
    private readonly List<Sample> _samples = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly CpuMeter _runnerCpu = new(() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    private readonly CpuMeter _postgresCpu;
    private readonly CpuMeter _relayCpu;
    private (long Busy, long Total)? _lastMachine;
    private (long Position, long Timestamp)? _lastWal;
    private Dictionary<string, double>? _lastCounters;
    private long _lastCountersTimestamp;
    private Task? _loop;
    private bool _disposed;
    private volatile string _phase = "warm-up";

    public Sampler(
        Uri? relay,
        string? connectionString,
        Func<int?> relayPid,
        Func<int?> postgresPid,
        Func<IntervalFigures?> interval,
        Func<(int Calls, int Participants)> load,
        Action<Sample>? onSample)
    {
        _interval = interval;
        _load = load;
        _relayPid = relayPid;
        _postgresPid = postgresPid;
        _onSample = onSample;
        _metrics = relay is null ? null : new RelayMetricsScraper(relay);
        _postgres = connectionString is null ? null : new PostgresProbe(connectionString);
        _relayCpu = new CpuMeter(() => _relayPid() is { } pid ? ProcStats.CpuSeconds(pid) : null);
        _postgresCpu = new CpuMeter(() => _postgresPid() is { } pid ? ProcStats.Tree(pid)?.CpuSeconds : null);
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
        _relayCpu.Sample();
        _postgresCpu.Sample();
        _lastMachine = ProcStats.Machine();
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

    private async Task<Sample> SampleAsync(CancellationToken cancellationToken)
    {
        var metricsTask = _metrics is null ? Task.FromResult<Dictionary<string, double>?>(null) : _metrics.ScrapeAsync(cancellationToken);
        var postgresTask = _postgres is null ? Task.FromResult<PostgresReading?>(null) : _postgres.ReadAsync(cancellationToken);
        var figures = _interval();
        var (calls, participants) = _load();
        var relayPid = _relayPid();
        var postgresPid = _postgresPid();
        var relayCpu = _relayCpu.Sample();
        var postgresCpu = _postgresCpu.Sample();
        var postgresTree = postgresPid is { } pp ? ProcStats.Tree(pp) : null;
        var runnerCpu = _runnerCpu.Sample() ?? 0;
        double? machineCpu = null;
        if (ProcStats.Machine() is { } machine)
        {
            if (_lastMachine is { } last && machine.Total > last.Total)
            {
                machineCpu = 100.0 * (machine.Busy - last.Busy) / (machine.Total - last.Total);
            }

            _lastMachine = machine;
        }

        var metrics = await metricsTask;
        var postgres = await postgresTask;
        double? walRate = null;
        var now = Stopwatch.GetTimestamp();
        if (postgres is { } reading)
        {
            if (_lastWal is { } lastWal && now > lastWal.Timestamp)
            {
                walRate = (reading.WalPosition - lastWal.Position) / ((now - lastWal.Timestamp) / (double)Stopwatch.Frequency);
            }

            _lastWal = (reading.WalPosition, now);
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

        var sample = new Sample
        {
            T = Math.Round(Elapsed, 3),
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
            RelayCpuPercent = relayCpu,
            RelayRssBytes = relayPid is { } rp ? ProcStats.RssBytes(rp) : null,
            PostgresCpuPercent = postgresCpu,
            PostgresRssBytes = postgresTree?.RssBytes,
            RunnerCpuPercent = runnerCpu,
            MachineCpuPercent = machineCpu,
            IngestQueueDepth = metrics?.GetValueOrDefault("pgvideochat_ingest_queue_depth"),
            FanOutQueueDepth = metrics?.GetValueOrDefault("pgvideochat_fanout_queue_depth"),
            RelayIngestedPerSecond = Rate("pgvideochat_frames_ingested_total"),
            RelayForwardedPerSecond = Rate("pgvideochat_frames_forwarded_total"),
            RelayDroppedPerSecond = Rate("pgvideochat_frames_dropped_total"),
        };

        if (metrics is not null)
        {
            _lastCounters = metrics;
            _lastCountersTimestamp = now;
        }

        return sample;
    }

    /// <summary>The relay's counters as last scraped (for the report's "relay counters" section).</summary>
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

        _metrics?.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _stop.Dispose();
    }
}
