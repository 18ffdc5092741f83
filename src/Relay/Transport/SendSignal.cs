using System.Threading.Tasks.Sources;

namespace PgVideoChat.Relay.Transport;

/// <summary>
/// Wakes a connection's send loop (its only waiter) on the thread that queued the item. Fan-out then starts an idle
/// connection's send itself instead of waking a thread-pool thread per recipient and frame: on a 2-core host those
/// wake-ups (futex, scheduler) cost more than the sends (docs/benchmarks.md). A send that cannot complete at once
/// continues asynchronously, so a slow client never holds fan-out. Cancellation completes the wait on the thread
/// pool, never inside the code that cancelled.
/// </summary>
internal sealed class SendSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Signaled = 2;

    private ManualResetValueTaskSourceCore<bool> _core; // continuations run synchronously: that is the point
    private CancellationTokenRegistration _registration;
    private int _state;

    /// <summary>Completes at once when signaled since the last wait; otherwise when <see cref="Set"/> is called.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled)
        {
            return ValueTask.CompletedTask;
        }

        cancellationToken.ThrowIfCancellationRequested();
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
        {
            // Signaled between the two checks.
            Volatile.Write(ref _state, Idle);
            return ValueTask.CompletedTask;
        }

        _registration = cancellationToken.UnsafeRegister(static signal => ((SendSignal)signal!).Cancel(), this);
        return new ValueTask(this, _core.Version);
    }

    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signaled:
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
            }
        }
    }

    private void Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static signal => signal._core.SetException(new OperationCanceledException()), this, preferLocal: false);
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        _registration.Dispose();
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
