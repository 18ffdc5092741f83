using System.Diagnostics.Metrics;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Telemetry;

/// <summary>
/// The relay's instruments (meter <c>PgVideoChat.Relay</c>); on <c>/metrics</c> they appear with the
/// <c>pgvideochat_</c> prefix. docs/metrics.md lists them.
/// </summary>
internal sealed class RelayMetrics
{
    public const string MeterName = "PgVideoChat.Relay";

    private readonly Counter<long> _framesIngested;
    private readonly Counter<long> _framesDropped;
    private readonly Counter<long> _bytesIngested;
    private readonly Counter<long> _messagesRejected;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _slotRecreated;
    private readonly Counter<long> _abandonedSlots;
    private readonly Counter<long> _qualitySteps;
    private readonly Counter<long> _recordingRowsCopied;
    private readonly Counter<double> _recordingCopyDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _insertDuration;
    private readonly Histogram<double> _forwardLatency;

    // Per-frame counts are plain totals read when metrics are collected: a tagged Counter.Add per frame (the exporter's
    // tag lookup and aggregation) was a visible share of the relay's CPU under load. Written with Interlocked (every
    // connection's send loop counts its own sends), read by the collector.
    private readonly long[] _forwarded = new long[2];
    private readonly long[] _skipped = new long[2];
    private readonly long[] _rows = new long[Tables.Replicated.Length];
    private long _rowsOther;

    /// <summary>The publication's tables, in the order their row counts are kept.</summary>

    public RelayMetrics(IMeterFactory meterFactory, RelayState state)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(state);
        var meter = meterFactory.Create(MeterName);
        _framesIngested = meter.CreateCounter<long>("pgvideochat.frames.ingested", "{frame}", "Media frames written to Postgres.");
        _bytesIngested = meter.CreateCounter<long>("pgvideochat.frames.ingested.bytes", "By", "Media payload bytes written to Postgres.");
        meter.CreateObservableCounter("pgvideochat.frames.forwarded", () => PerKind(_forwarded), "{frame}", "Media frames read from the slot and sent to a client's WebSocket.");
        _framesDropped = meter.CreateCounter<long>("pgvideochat.frames.dropped", "{frame}", "Media frames dropped, by kind and reason.");
        meter.CreateObservableCounter("pgvideochat.replication.rows", RowsByTable, "{row}", "Rows received from the replication slot, by table.");
        meter.CreateObservableCounter("pgvideochat.replication.frames.skipped", () => PerKind(_skipped), "{frame}", "Media rows from the slot with no recipient on this relay; their payload is not copied.");
        _messagesRejected = meter.CreateCounter<long>("pgvideochat.requests.rejected", "{request}", "Client requests refused, by error code.");
        _disconnects = meter.CreateCounter<long>("pgvideochat.clients.disconnects", "{connection}", "Connections closed, by close code.");
        _slotRecreated = meter.CreateCounter<long>("pgvideochat.replication.slot.recreated", "{event}", "Times the slot was found invalidated and recreated.");
        _abandonedSlots = meter.CreateCounter<long>("pgvideochat.replication.slot.abandoned", "{slot}", "Slots of relay instances without a heartbeat dropped by the watchdog.");
        _qualitySteps = meter.CreateCounter<long>("pgvideochat.quality.steps", "{step}", "Senders asked to step their video down or back up, by direction.");
        _recordingRowsCopied = meter.CreateCounter<long>("pgvideochat.recordings.copied", "{frame}", "Recorded calls' frames the rotation copied out of expiring partitions into their recordings' partitions, by kind.");
        _recordingCopyDuration = meter.CreateCounter<double>("pgvideochat.recordings.copy.duration", "s", "Time the rotation spent copying recorded calls' frames into their recordings' partitions.");
        _batchSize = meter.CreateHistogram<int>("pgvideochat.ingest.batch.size", "{frame}", "Frames per group-commit round trip.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        _insertDuration = meter.CreateHistogram<double>("pgvideochat.ingest.insert.duration", "s", "Time of one group-commit round trip.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1] });
        _forwardLatency = meter.CreateHistogram<double>("pgvideochat.forward.latency", "s", "From the relay receiving a frame to a relay handing it to a client's queue (through Postgres).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5] });
        // Series that exist from the start read as 0 on dashboards instead of "no data".
        _slotRecreated.Add(0);
        _abandonedSlots.Add(0);
        _qualitySteps.Add(0, new KeyValuePair<string, object?>("direction", "down"));
        _qualitySteps.Add(0, new KeyValuePair<string, object?>("direction", "up"));
        _recordingCopyDuration.Add(0);
        foreach (var kind in new[] { MediaKind.Video, MediaKind.Audio })
        {
            FrameDropped(kind, "queue_full", 0);
            FrameDropped(kind, "stale", 0);
            _recordingRowsCopied.Add(0, Kind(kind));
        }

        meter.CreateObservableGauge("pgvideochat.replication.lag.bytes", () => state.SlotLagBytes, "By", "pg_current_wal_lsn() - confirmed_flush_lsn of this relay's slot.");
        meter.CreateObservableCounter("pgvideochat.postgres.wal.written", () => state.WalWrittenBytes, "By", "WAL the server wrote since this relay started watching (pg_current_wal_lsn, read once a second): its rate is the database's write rate.");
        meter.CreateObservableGauge("pgvideochat.replication.lag.seconds", () => state.SlotLagSeconds, "s", "Now minus the commit time of the transaction being forwarded (0 when caught up).");
        meter.CreateObservableGauge("pgvideochat.replication.connected", () => state.StreamConnected ? 1 : 0, "{stream}", "1 while the replication stream is up.");
        meter.CreateObservableGauge("pgvideochat.clients.connected", () => state.ConnectedClients, "{connection}", "Open client WebSockets.");
        meter.CreateObservableGauge("pgvideochat.fanout.queue.depth", () => state.QueuedMessages, "{message}", "Messages waiting in all client send queues.");
        meter.CreateObservableGauge("pgvideochat.ingest.queue.depth", () => state.IngestQueueDepth, "{frame}", "Frames waiting for the write pipeline.");
    }

    public void FrameIngested(MediaKind kind, int count, long bytes)
    {
        _framesIngested.Add(count, Kind(kind));
        _bytesIngested.Add(bytes, Kind(kind));
    }

    public void FrameForwarded(MediaKind kind) => Interlocked.Increment(ref _forwarded[KindIndex(kind)]);

    /// <summary>A sender asked one step down (<paramref name="down"/>) or back up.</summary>
    public void QualityStep(bool down) => _qualitySteps.Add(1, new KeyValuePair<string, object?>("direction", down ? "down" : "up"));

    public void FrameDropped(MediaKind kind, string reason, int count = 1)
        => _framesDropped.Add(count, new KeyValuePair<string, object?>("kind", KindName(kind)), new KeyValuePair<string, object?>("reason", reason));

    public void FrameSkipped(MediaKind kind) => Interlocked.Increment(ref _skipped[KindIndex(kind)]);

    public void RowReceived(string table)
    {
        var index = Array.IndexOf(Tables.Replicated, table);
        if (index >= 0)
        {
            Interlocked.Increment(ref _rows[index]);
        }
        else
        {
            Interlocked.Increment(ref _rowsOther);
        }
    }

    public void RequestRejected(string code) => _messagesRejected.Add(1, new KeyValuePair<string, object?>("code", code));

    public void Disconnected(int closeCode) => _disconnects.Add(1, new KeyValuePair<string, object?>("code", closeCode));

    /// <summary>One copy-out of an expiring partition of <paramref name="kind"/> (every recording due in it): rows copied and the time it took.</summary>
    public void RecordingCopied(MediaKind kind, long rows, TimeSpan duration)
    {
        _recordingRowsCopied.Add(rows, Kind(kind));
        _recordingCopyDuration.Add(duration.TotalSeconds);
    }

    public void SlotRecreated() => _slotRecreated.Add(1);

    public void AbandonedSlotDropped() => _abandonedSlots.Add(1);

    public void BatchWritten(int frames, TimeSpan duration)
    {
        _batchSize.Record(frames);
        _insertDuration.Record(duration.TotalSeconds);
    }

    public void ForwardLatency(MediaKind kind, double seconds) => _forwardLatency.Record(seconds, Kind(kind));

    public static string KindName(MediaKind kind) => kind == MediaKind.Video ? "video" : "audio";

    private static KeyValuePair<string, object?> Kind(MediaKind kind) => new("kind", KindName(kind));

    private static int KindIndex(MediaKind kind) => kind == MediaKind.Video ? 0 : 1;

    private static Measurement<long>[] PerKind(long[] totals) =>
    [
        new(Volatile.Read(ref totals[KindIndex(MediaKind.Video)]), Kind(MediaKind.Video)),
        new(Volatile.Read(ref totals[KindIndex(MediaKind.Audio)]), Kind(MediaKind.Audio)),
    ];

    private IEnumerable<Measurement<long>> RowsByTable()
    {
        for (var i = 0; i < Tables.Replicated.Length; i++)
        {
            yield return new(Volatile.Read(ref _rows[i]), new KeyValuePair<string, object?>("table", Tables.Replicated[i]));
        }

        yield return new(Volatile.Read(ref _rowsOther), new KeyValuePair<string, object?>("table", "other"));
    }
}
