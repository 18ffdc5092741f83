using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>
/// One thread that resumes every sender at its next frame's due time and runs it right there. 100 emulated browsers
/// at 15 fps video and 25 audio frames a second are 4,000 wake-ups a second: as <c>Task.Delay</c> timers each one cost
/// the timer thread a wake and a thread-pool hand-off (a futex wake and wait on both sides), the largest part of the
/// runner's CPU on 2 cores (docs/benchmarks.md). Here a sender's send, which almost always completes at once,
/// runs on the pacer thread; one that cannot resumes on the thread pool as before and comes back at its next wait.
/// </summary>
internal sealed class SendPacer : IDisposable
{
    // Longest single sleep: bounds how long a stop waits for the thread to notice.
    private const int MaxSleepMilliseconds = 100;

    // Touched only under _gate: Schedule adds from any thread, Run takes on the pacer thread.
    private readonly PriorityQueue<Action, long> _due = new();
    // Monitor, not Lock: the thread sleeps with Monitor.Wait until the earliest due time or an earlier arrival.
    private readonly object _gate = new();
    private readonly Thread _thread;
    private long _sleepingUntil = long.MaxValue;
    private long _faults;
    private bool _stopping;

    public SendPacer()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "send pacer" };
        _thread.Start();
    }

    /// <summary>Continuations that threw (an async method's continuation never should; counted, not fatal).</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>Awaits the moment <paramref name="dueTimestamp"/> (a <see cref="Stopwatch"/> timestamp); completes at once if it has passed.</summary>
    public DueAwaitable WaitUntil(long dueTimestamp) => new(this, dueTimestamp);

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
    }

    private void Schedule(long due, Action continuation)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                // Nothing waits on a stopped pacer: let the sender run on and see its cancellation.
                ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
                return;
            }

            _due.Enqueue(continuation, due);
            if (due < _sleepingUntil)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    private void Run()
    {
        var ready = new List<Action>();
        while (true)
        {
            lock (_gate)
            {
                if (_stopping)
                {
                    // Senders still waiting resume on the thread pool (they were cancelled before the engine stopped us).
                    while (_due.TryDequeue(out var left, out _))
                    {
                        ThreadPool.UnsafeQueueUserWorkItem(static c => c(), left, preferLocal: false);
                    }

                    return;
                }

                var now = Stopwatch.GetTimestamp();
                if (!_due.TryPeek(out _, out var next) || next > now)
                {
                    var wait = next > now ? (next - now) * 1000.0 / Stopwatch.Frequency : MaxSleepMilliseconds;

                    // Timers tick in whole milliseconds: round up, so that a sub-millisecond wait never spins.
                    _sleepingUntil = _due.Count == 0 ? long.MaxValue : next;
                    Monitor.Wait(_gate, (int)Math.Min(MaxSleepMilliseconds, Math.Ceiling(wait)));
                    _sleepingUntil = long.MaxValue;
                    continue;
                }

                while (_due.TryPeek(out var continuation, out var due) && due <= now)
                {
                    _due.Dequeue();
                    ready.Add(continuation);
                }
            }

            // Outside the lock: a sender that resumes here waits again through Schedule.
            foreach (var continuation in ready)
            {
                try
                {
                    continuation();
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _faults);
                }
            }

            ready.Clear();
        }
    }

    /// <summary>The awaitable of <see cref="WaitUntil"/>.</summary>
    internal readonly struct DueAwaitable(SendPacer pacer, long due) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => Stopwatch.GetTimestamp() >= due;

        public DueAwaitable GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation)
        {
            var context = ExecutionContext.Capture();
            pacer.Schedule(due, context is null ? continuation : () => ExecutionContext.Run(context, static c => ((Action)c!)(), continuation));
        }

        public void UnsafeOnCompleted(Action continuation) => pacer.Schedule(due, continuation);
    }
}
