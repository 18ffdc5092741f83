using System.Diagnostics;
using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>Counters of one phase, shared by its writers and the reader.</summary>
internal sealed class PhaseCounters(long callId)
{
    public long FailedCount;
    private long _written;
    private long _videoWritten;
    private long _bytesWritten;
    private long _decoded;
    private long _bytesDecoded;
    private long _lastDecode;
    private long _minBytes = long.MaxValue;
    private long _maxBytes;

    public long CallId { get; } = callId;

    public long FirstWriteTimestamp { get; set; }

    public LatencyStats InsertLatency { get; } = new();

    public LatencyStats DecodeLatency { get; } = new();

    public long Written => Interlocked.Read(ref _written);

    public long VideoWritten => Interlocked.Read(ref _videoWritten);

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    public long Decoded => Interlocked.Read(ref _decoded);

    public long BytesDecoded => Interlocked.Read(ref _bytesDecoded);

    public long Failed => Interlocked.Read(ref FailedCount);

    public long LastDecodeTimestamp => Interlocked.Read(ref _lastDecode);

    public long MinBytes => _minBytes == long.MaxValue ? 0 : _minBytes;

    public long MaxBytes => _maxBytes;

    public void OnWritten(bool video, int bytes, int rows)
    {
        Track(bytes);
        Interlocked.Add(ref _written, rows);
        Interlocked.Add(ref _bytesWritten, bytes);
        if (video)
        {
            Interlocked.Increment(ref _videoWritten);
        }
    }

    public void OnBatchWritten(int rows, int videoRows, long bytes)
    {
        Interlocked.Add(ref _written, rows);
        Interlocked.Add(ref _videoWritten, videoRows);
        Interlocked.Add(ref _bytesWritten, bytes);
    }

    public void Track(int bytes)
    {
        _minBytes = Math.Min(_minBytes, bytes);
        _maxBytes = Math.Max(_maxBytes, bytes);
    }

    public void OnDecoded(long bytes, long latencyMicros)
    {
        Interlocked.Increment(ref _decoded);
        Interlocked.Add(ref _bytesDecoded, bytes);
        Interlocked.Exchange(ref _lastDecode, Stopwatch.GetTimestamp());
        DecodeLatency.Record(latencyMicros);
    }
}
