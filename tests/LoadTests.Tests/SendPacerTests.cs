using System.Diagnostics;
using PgVideoChat.LoadTests.Scenario;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>The one thread that resumes senders at their frames' due times.</summary>
public sealed class SendPacerTests
{
    [Fact]
    public async Task Senders_resume_in_due_order_on_the_pacer_thread_and_not_before_their_time()
    {
        using var pacer = new SendPacer();
        var start = Stopwatch.GetTimestamp();
        var resumed = new List<(int Sender, long At, string? Thread)>();
        var gate = new Lock();

        async Task SendAsync(int sender, int delayMs)
        {
            var due = start + (delayMs * Stopwatch.Frequency / 1000);
            await pacer.WaitUntil(due);
            lock (gate)
            {
                resumed.Add((sender, Stopwatch.GetTimestamp() - due, Thread.CurrentThread.Name));
            }
        }

        // Registered out of order; the pacer sleeps until the earliest and is woken for earlier arrivals. The due times
        // are far enough ahead that none has passed before it is registered, even on a busy CI box just after JIT.
        await Task.WhenAll(SendAsync(3, 800), SendAsync(1, 400), SendAsync(2, 600), SendAsync(0, 200));

        Assert.Equal([0, 1, 2, 3], resumed.Select(r => r.Sender));
        Assert.All(resumed, r => Assert.True(r.At >= 0, $"sender {r.Sender} resumed {r.At} ticks before its due time"));
        Assert.All(resumed, r => Assert.Equal("send pacer", r.Thread));
    }

    [Fact]
    public async Task A_due_time_in_the_past_completes_at_once_and_a_stopped_pacer_releases_its_waiters()
    {
        var pacer = new SendPacer();
        var thread = Environment.CurrentManagedThreadId;
        await pacer.WaitUntil(Stopwatch.GetTimestamp() - 1);
        Assert.Equal(thread, Environment.CurrentManagedThreadId);

        var waiting = Task.Run(async () => await pacer.WaitUntil(Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency)));
        await Task.Delay(50);
        pacer.Dispose();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, pacer.Faults);
    }
}
