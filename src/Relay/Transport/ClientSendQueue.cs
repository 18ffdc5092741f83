using PgVideoChat.Protocol;
using PgVideoChat.Relay.Telemetry;

namespace PgVideoChat.Relay.Transport;

/// <summary>What the send loop takes next.</summary>
internal readonly record struct OutboundItem(byte[]? Control, OutboundFrame? Frame);

/// <summary>
/// One connection's bounded send queue. Control messages (JSON) come first and are never dropped: past the
/// bound the client is too slow and gets closed (4408). Audio then video follow; when their bounds are
/// reached the oldest frame is dropped and counted, so a stalled reader costs a fixed amount of memory.
/// </summary>
internal sealed class ClientSendQueue(FanOutOptions options, RelayMetrics metrics, RelayState state, FrameDropTally drops) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _control = new();
    private readonly Queue<OutboundFrame> _audio = new();
    private readonly Queue<OutboundFrame> _video = new();
    private readonly SendSignal _signal = new();
    private bool _completed;
    private bool _overflowed;

    /// <summary>Set once the control queue overflowed: the connection must close with 4408.</summary>
    public bool Overflowed
    {
        get
        {
            lock (_gate)
            {
                return _overflowed;
            }
        }
    }

    /// <summary>Queues a control message; returns <see langword="false"/> when the client is too slow.</summary>
    public bool EnqueueControl(byte[] message, bool first = false)
    {
        var overflowed = false;
        lock (_gate)
        {
            if (_completed)
            {
                return true;
            }

            if (_control.Count >= options.ControlQueueMessages)
            {
                _overflowed = overflowed = true;
            }
            else if (first && _control.Count > 0)
            {
                var rest = _control.ToArray();
                _control.Clear();
                _control.Enqueue(message);
                foreach (var item in rest)
                {
                    _control.Enqueue(item);
                }
            }
            else
            {
                _control.Enqueue(message);
            }
        }

        // Signalled outside the lock: the send loop may run right here, on this thread.
        if (overflowed)
        {
            _signal.Set();
            return false;
        }

        state.QueueChanged(1);
        _signal.Set();
        return true;
    }

    /// <summary>Queues a media frame (taking a reference); drops the oldest of its kind when full.</summary>
    public void EnqueueFrame(OutboundFrame frame)
    {
        OutboundFrame? dropped = null;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            var (queue, bound) = frame.Kind == MediaKind.Video
                ? (_video, options.VideoQueueFrames)
                : (_audio, options.AudioQueueFrames);
            frame.AddReference();
            queue.Enqueue(frame);
            if (queue.Count > bound)
            {
                dropped = queue.Dequeue();
            }
        }

        if (dropped is not null)
        {
            drops.Dropped(dropped);
            dropped.Release();
            metrics.FrameDropped(dropped.Kind, "queue_full");
        }
        else
        {
            state.QueueChanged(1);
        }

        _signal.Set();
    }

    /// <summary>Takes the next item (control, then audio, then video), or waits for one.</summary>
    public async ValueTask<OutboundItem?> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_overflowed || _completed)
                {
                    return null;
                }

                OutboundItem? item = _control.TryDequeue(out var control) ? new OutboundItem(control, null)
                    : _audio.TryDequeue(out var audio) ? new OutboundItem(null, audio)
                    : _video.TryDequeue(out var video) ? new OutboundItem(null, video)
                    : null;
                if (item is not null)
                {
                    state.QueueChanged(-1);
                    return item;
                }
            }

            await _signal.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Ends the queue and releases every frame still in it.</summary>
    public void Complete()
    {
        List<OutboundFrame> frames;
        int control;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            frames = [.. _audio, .. _video];
            control = _control.Count;
            _audio.Clear();
            _video.Clear();
            _control.Clear();
        }

        foreach (var frame in frames)
        {
            frame.Release();
        }

        state.QueueChanged(-(frames.Count + control));
        _signal.Set();
    }

    /// <summary>Ends the queue (releasing its frames) if it was not already.</summary>
    public void Dispose() => Complete();
}
