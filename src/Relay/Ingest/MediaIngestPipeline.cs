using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Ingest;

/// <summary>A validated frame waiting to be written; its payload lives in a pooled buffer until then.</summary>
internal readonly record struct PendingFrame(MediaFrameHeader Header, long SenderId, long RecipientShards, long ReceivedMicros, byte[] Buffer, int Length);

/// <summary>
/// The write pipeline (group commit): whatever frames are queued when the writer is free go to Postgres in one
/// round trip and one transaction; it never waits to fill a batch, so a lone frame is written at once.
/// The INSERT is the publish: the rows reach recipients only through the replication slot.
/// </summary>
internal sealed class MediaIngestPipeline : BackgroundService
{
    // Two frames meet by chance even in one call (video and audio of two people); four waiting means real load.
    private const int LingerAfterFrames = 4;

    private readonly Channel<PendingFrame>[] _lanes;
    private readonly NpgsqlDataSource _dataSource;
    private readonly IngestOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly RelayState _state;
    private readonly ILogger<MediaIngestPipeline> _logger;
    private readonly long _maxAgeMicros;
    private long _queuedBytes;

    public MediaIngestPipeline(NpgsqlDataSource dataSource, IOptions<RelayOptions> options, RelayMetrics metrics, RelayState state, ILogger<MediaIngestPipeline> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _dataSource = dataSource;
        _options = options.Value.Ingest;
        _metrics = metrics;
        _state = state;
        _logger = logger;
        // Several lanes, each its own connection and transaction, so one batch's WAL flush overlaps the next batch;
        // a call always uses the same lane, so its frames stay in order.
        // A full lane drops its oldest frame for the new one: during a stall the queue holds the newest frames.
        _maxAgeMicros = (long)_options.MaxFrameAge.TotalMicroseconds;
        _lanes = [.. Enumerable.Range(0, _options.Writers).Select(_ => Channel.CreateBounded<PendingFrame>(
            new BoundedChannelOptions(Math.Max(1, _options.QueueFrames / _options.Writers))
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.DropOldest,
            },
            Discard))];
    }

    /// <summary>Copies the payload into a pooled buffer and queues the frame; <see langword="false"/> when the pipeline holds its most bytes.</summary>
    public bool TryEnqueue(in MediaFrameHeader header, long senderId, long recipientShards, ReadOnlySpan<byte> payload)
    {
        if (Interlocked.Add(ref _queuedBytes, payload.Length) > _options.QueueBytes)
        {
            Interlocked.Add(ref _queuedBytes, -payload.Length);
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(buffer);
        var frame = new PendingFrame(header, senderId, recipientShards, NowMicros(), buffer, payload.Length);
        // Counted first: a full lane discards (and uncounts) its oldest frame inside TryWrite.
        _state.IngestQueueChanged(1);
        if (!_lanes[(int)((ulong)header.CallId % (ulong)_lanes.Length)].Writer.TryWrite(frame))
        {
            // Only a completed channel (the relay is stopping) refuses a frame.
            _state.IngestQueueChanged(-1);
            Interlocked.Add(ref _queuedBytes, -payload.Length);
            ArrayPool<byte>.Shared.Return(buffer);
            return false;
        }

        return true;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(_lanes.Select(lane => WriteLaneAsync(lane.Reader, stoppingToken)));

    private async Task WriteLaneAsync(ChannelReader<PendingFrame> reader, CancellationToken stoppingToken)
    {
        var batch = new List<PendingFrame>(_options.MaxBatchFrames);
        // Each lane keeps its own connection: the same backend with warm caches and its prepared INSERTs, instead of
        // whichever pooled connection is idle (a different backend per batch, each planning the INSERTs again).
        NpgsqlConnection? connection = null;
        using var linger = new LingerTimer();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                var bytes = Drain(reader, batch, 0);
                if (batch.Count >= LingerAfterFrames && batch.Count < _options.LingerBatchFrames && _options.Linger > TimeSpan.Zero)
                {
                    // Several frames waited for the writer: frames arrive faster than commits. Postgres's cost is per
                    // commit as much as per row (docs/benchmarks.md, "Bigger commits under load"), so wait a moment
                    // for a bigger batch. Light load (a call or two) never waits.
                    bytes = await LingerAsync(reader, batch, bytes, linger);
                }

                _state.IngestQueueChanged(-batch.Count);
                Interlocked.Add(ref _queuedBytes, -bytes);
                connection = await WriteAsync(connection, batch, stoppingToken);
                foreach (var frame in batch)
                {
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private int Drain(ChannelReader<PendingFrame> reader, List<PendingFrame> batch, int bytes)
    {
        var staleBefore = NowMicros() - _maxAgeMicros;
        while (batch.Count < _options.MaxBatchFrames && bytes < _options.MaxBatchBytes && reader.TryRead(out var frame))
        {
            if (frame.ReceivedMicros < staleBefore)
            {
                Discard(frame);
                continue;
            }

            batch.Add(frame);
            bytes += frame.Length;
        }

        return bytes;
    }

    /// <summary>A frame leaves the queue unwritten: too old to be worth writing, or pushed out of a full lane.</summary>
    private void Discard(PendingFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, -frame.Length);
        _state.IngestQueueChanged(-1);
        ArrayPool<byte>.Shared.Return(frame.Buffer);
        _metrics.FrameDropped(frame.Header.Kind, "ingest_stale");
    }

    /// <summary>Waits up to <c>Linger</c> for more frames; running out is the usual case under load, and throws nothing.</summary>
    private async Task<int> LingerAsync(ChannelReader<PendingFrame> reader, List<PendingFrame> batch, int bytes, LingerTimer linger)
    {
        var token = linger.Arm(_options.Linger);
        while (batch.Count < _options.LingerBatchFrames && bytes < _options.MaxBatchBytes)
        {
            var wait = reader.WaitToReadAsync(token);
            bool more;
            if (wait.IsCompletedSuccessfully)
            {
                more = wait.Result;
            }
            else
            {
                var waiting = wait.AsTask();
                await ((Task)waiting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                more = waiting.IsCompletedSuccessfully && waiting.Result;
            }

            if (!more)
            {
                // Ran out, or the channel completed: write what there is. The stopping token ends the lane's loop.
                break;
            }

            bytes = Drain(reader, batch, bytes);
        }

        return bytes;
    }

    /// <summary>Writes one batch; returns the lane's connection to use next time (none after a failure).</summary>
    private async Task<NpgsqlConnection?> WriteAsync(NpgsqlConnection? connection, List<PendingFrame> frames, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            connection ??= await _dataSource.OpenConnectionAsync(cancellationToken);
            await FrameBatchWriter.WriteAsync(_options.WriteMethod, connection, frames, cancellationToken);
            _metrics.BatchWritten(frames.Count, Stopwatch.GetElapsedTime(started));
            int videoFrames = 0, audioFrames = 0;
            long videoBytes = 0, audioBytes = 0;
            foreach (var frame in frames)
            {
                if (frame.Header.Kind == MediaKind.Video)
                {
                    videoFrames++;
                    videoBytes += frame.Length;
                }
                else
                {
                    audioFrames++;
                    audioBytes += frame.Length;
                }
            }

            if (videoFrames > 0)
            {
                _metrics.FrameIngested(MediaKind.Video, videoFrames, videoBytes);
            }

            if (audioFrames > 0)
            {
                _metrics.FrameIngested(MediaKind.Audio, audioFrames, audioBytes);
            }

            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Media is real-time: a batch the database refused is dropped (and counted), never retried late.
            Log.BatchFailed(_logger, ex, frames.Count);
            foreach (var frame in frames)
            {
                _metrics.FrameDropped(frame.Header.Kind, "db_error");
            }

            // The connection may be broken (Postgres restarted): the next batch opens a fresh one.
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            return null;
        }
    }

    private static long NowMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>One linger timer per lane, re-armed per linger rather than a linked token source and timer each time.</summary>
    private sealed class LingerTimer : IDisposable
    {
        private CancellationTokenSource _source = new();

        public CancellationToken Arm(TimeSpan delay)
        {
            if (!_source.TryReset())
            {
                _source.Dispose();
                _source = new CancellationTokenSource();
            }

            _source.CancelAfter(delay);
            return _source.Token;
        }

        public void Dispose() => _source.Dispose();
    }
}
