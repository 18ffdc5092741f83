using System.Globalization;
using PgVideoChat.LoadTests.Client;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Protocol;

namespace PgVideoChat.LoadTests.Scenario;

internal sealed partial class CallsEngine
{
    /// <summary>Adds or stops calls to reach <paramref name="target"/> and waits until the new calls are up (or failed).</summary>
    public async Task EnsureCallsAsync(int target, CancellationToken cancellationToken)
    {
        var started = RequestCalls(target);
        await Task.WhenAll(started).WaitAsync(cancellationToken);
    }

    /// <summary>Starts set-ups (or stops calls) in the background to reach <paramref name="target"/>; returns the started set-ups.</summary>
    public IReadOnlyList<Task> RequestCalls(int target)
    {
        var setups = new List<Task>();
        lock (_gate)
        {
            var wanted = _calls.Where(c => c.State is SimCallState.SettingUp or SimCallState.Established).ToList();
            for (var i = wanted.Count; i < target; i++)
            {
                var call = new SimCall(Interlocked.Increment(ref _nextCall), _options.GroupSize);
                _calls.Add(call);
                var setup = Task.Run(() => SetUpAsync(call, _stop.Token));
                setups.Add(setup);
                _background.Add(setup);
            }

            // Fewer wanted: stop the newest first (those still setting up stop once they are up).
            foreach (var call in wanted.OrderByDescending(c => c.Index).Take(Math.Max(0, wanted.Count - target)))
            {
                call.State = SimCallState.Stopping;
                _background.Add(Task.Run(() => StopCallAsync(call, TimeSpan.FromSeconds(2))));
            }

            _background.RemoveAll(t => t.IsCompleted);
        }

        return setups;
    }

    private async Task SetUpAsync(SimCall call, CancellationToken cancellationToken)
    {
        await _setupSlots.WaitAsync(cancellationToken);
        var started = Clock.NowMicros;
        var ok = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var ct = timeout.Token;
            var sessions = await Task.WhenAll(Enumerable.Range(0, call.Participants.Length).Select(p =>
                Participant.SignInAsync(_http, string.Create(CultureInfo.InvariantCulture, $"load-{_runTag}-c{call.Index}-p{p}"), ct)));
            var participants = await Task.WhenAll(sessions.Select(s => Participant.ConnectAsync(_relay, s, this, ct)));
            for (var i = 0; i < participants.Length; i++)
            {
                call.Participants[i] = participants[i];
            }

            var caller = participants[0];
            call.CallId = await caller.InviteAsync([.. participants.Skip(1).Select(p => p.UserId)], ct);
            await Task.WhenAll(participants.Skip(1).Select(p => p.AcceptAsync(call.CallId, ct)));
            var everyone = participants.Select(p => p.UserId).ToHashSet();
            bool Active(CallSnapshot m) => m.State == "active"
                && everyone.All(id => m.Participants.Any(p => p.UserId == id && p.State == "joined"));
            await Task.WhenAll(participants.Select(p => p.WaitForCallAsync(call.CallId, Active, ct)));
            if (call.Index <= _options.RecordCalls)
            {
                // Before media flows, so the recording holds the whole call. A refusal costs the recording, not the call.
                try
                {
                    await caller.RecordStartAsync(call.CallId, ct);
                    call.Recorded = true;
                }
                catch (InvalidOperationException ex)
                {
                    CountError("record_failed");
                    _log($"call {call.Index}: call.record.start refused: {ex.Message}");
                }
            }

            // Every receiver tracks every other sender's sequences from the sender's first number.
            for (var r = 0; r < participants.Length; r++)
            {
                var flows = new Dictionary<long, FlowTracker[]>();
                for (var s = 0; s < participants.Length; s++)
                {
                    if (s != r)
                    {
                        flows[participants[s].UserId] =
                        [
                            new FlowTracker(participants[s].UserId, participants[r].UserId, call.Senders[s].VideoBase, call.Senders[s].VideoLog),
                            new FlowTracker(participants[s].UserId, participants[r].UserId, call.Senders[s].AudioBase, call.Senders[s].AudioLog),
                        ];
                    }
                }

                participants[r].Flows = flows;
            }

            lock (_gate)
            {
                if (call.State == SimCallState.SettingUp)
                {
                    call.State = SimCallState.Established;
                    call.SendLoops = [.. participants.Select((p, i) => Task.Run(() => SendLoopAsync(call, i, call.SendStop.Token)))];
                }
            }

            ok = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _setupFailures);
            CountError("setup_failed");
            if (Interlocked.Increment(ref _loggedFailures) <= 5)
            {
                _log($"call {call.Index}: set-up failed: {Participant.Describe(ex)}");
            }
        }
        finally
        {
            var elapsed = Clock.NowMicros - started;
            foreach (var window in _windows)
            {
                if (window.Contains(started))
                {
                    window.OnSetup(elapsed, ok);
                }
            }

            if (!ok)
            {
                // Back off a little so a relay that refuses set-ups is not hammered; then give the slot back.
                lock (_gate)
                {
                    call.State = SimCallState.Stopping;
                }

                await StopCallAsync(call, TimeSpan.Zero);
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }

            _setupSlots.Release();
        }

        if (ok && call.State == SimCallState.Stopping)
        {
            // The target dropped while it was being set up.
            await StopCallAsync(call, TimeSpan.Zero);
        }
    }

    private async Task StopCallAsync(SimCall call, TimeSpan grace)
    {
        await call.SendStop.CancelAsync();
        await Task.WhenAll(call.SendLoops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (grace > TimeSpan.Zero)
        {
            await Task.Delay(grace, CancellationToken.None);
        }

        await HangUpAndCloseAsync(call);
        lock (_gate)
        {
            call.State = SimCallState.Stopped;
        }
    }

    private static async Task HangUpAndCloseAsync(SimCall call)
    {
        if (call.CallId != 0 && call.Participants[0] is { IsOpen: true } caller)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                if (call.Recorded)
                {
                    // The hang-up would stop it too (a call that ends stops its recording); the stop is what a user sends.
                    await caller.RecordStopAsync(call.CallId, timeout.Token);
                }

                await caller.HangupAsync(call.CallId, timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or TimeoutException)
            {
            }
        }

        foreach (var participant in call.Participants)
        {
            if (participant is not null)
            {
                // Keep the receive figures: DisposeAsync only closes the socket.
                await participant.DisposeAsync();
            }
        }
    }

    /// <summary>Hangs up and closes every call.</summary>
    public async Task TeardownAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        List<Task> background;
        lock (_gate)
        {
            background = [.. _background];
        }

        await Task.WhenAll(background).WaitAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await StopSendingAsync();
        List<SimCall> calls;
        lock (_gate)
        {
            calls = [.. _calls.Where(c => c.State != SimCallState.Stopped)];
        }

        using var parallel = new SemaphoreSlim(16);
        await Task.WhenAll(calls.Select(async call =>
        {
            await parallel.WaitAsync();
            try
            {
                await HangUpAndCloseAsync(call);
                lock (_gate)
                {
                    call.State = SimCallState.Stopped;
                }
            }
            finally
            {
                parallel.Release();
            }
        }));
    }
}
