namespace PgVideoChat.Relay.Telemetry;

/// <summary>Live figures of this relay instance, written by their owners and read by metrics and health.</summary>
internal sealed class RelayState
{
    private long _slotLagBytes;
    private long _walFirstPosition = -1;
    private long _walPosition;
    private long _connectedClients;
    private long _queuedMessages;
    private long _ingestQueueDepth;
    private long _lagTicks;
    private volatile bool _streamConnected;
    private readonly TaskCompletionSource _startedUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool StreamConnected
    {
        get => _streamConnected;
        set => _streamConnected = value;
    }

    /// <summary>Start-up is done (schema migrated, instance registered, slot and caches ready): the stream may start, clients may connect once it has.</summary>
    public bool StartedUp => _startedUp.Task.IsCompleted;

    /// <summary>Completes when start-up is done.</summary>
    public Task WhenStartedUp => _startedUp.Task;

    public void MarkStartedUp() => _startedUp.TrySetResult();

    /// <summary>WAL bytes the server wrote since this relay first looked (its position is read once a second).</summary>
    public long WalWrittenBytes => Volatile.Read(ref _walFirstPosition) is var first and >= 0 ? Interlocked.Read(ref _walPosition) - first : 0;

    public void ObserveWalPosition(long position)
    {
        Interlocked.CompareExchange(ref _walFirstPosition, position, -1);
        Interlocked.Exchange(ref _walPosition, position);
    }

    public long SlotLagBytes
    {
        get => Interlocked.Read(ref _slotLagBytes);
        set => Interlocked.Exchange(ref _slotLagBytes, value);
    }

    /// <summary>Seconds behind: at the last transaction received, now minus its commit time; 0 once the stream is idle.</summary>
    public double SlotLagSeconds => Interlocked.Read(ref _lagTicks) / (double)TimeSpan.TicksPerSecond;

    public long ConnectedClients => Interlocked.Read(ref _connectedClients);

    public long QueuedMessages => Interlocked.Read(ref _queuedMessages);

    public long IngestQueueDepth => Interlocked.Read(ref _ingestQueueDepth);

    /// <summary>A transaction committed at <paramref name="commitTime"/> has been received.</summary>
    public void TransactionReceived(DateTime commitTime)
        => Interlocked.Exchange(ref _lagTicks, Math.Max(0, DateTime.UtcNow.Ticks - commitTime.ToUniversalTime().Ticks));

    /// <summary>Everything the server has sent so far has been forwarded and nothing new arrived for a while.</summary>
    public void CaughtUp() => Interlocked.Exchange(ref _lagTicks, 0);

    public void ClientConnected() => Interlocked.Increment(ref _connectedClients);

    public void ClientDisconnected() => Interlocked.Decrement(ref _connectedClients);

    public void QueueChanged(long delta) => Interlocked.Add(ref _queuedMessages, delta);

    public void IngestQueueChanged(long delta) => Interlocked.Add(ref _ingestQueueDepth, delta);
}
