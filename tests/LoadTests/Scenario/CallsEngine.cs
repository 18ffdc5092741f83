using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Client;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Stats;
using PgVideoChat.Protocol;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>Per-second figures of the media flowing, for the live view and the timeline.</summary>
public sealed record IntervalFigures(long VideoSent, long AudioSent, long VideoDelivered, long AudioDelivered, LatencySummary VideoLatency, LatencySummary AudioLatency, LatencySummary SendLateness);

/// <summary>
/// Runs calls against a relay: sets calls up through the real protocol (sign-in, WebSocket, call.invite, call.accept,
/// until every participant sees the call active), paces each participant's video and audio on an absolute schedule
/// over its one WebSocket, and attributes every received frame to the open measurement windows by capture time.
/// </summary>
internal sealed class CallsEngine : IMediaSink, IAsyncDisposable
{
    private readonly Uri _relay;
    private readonly MediaLibrary _media;
    private readonly CallsRunOptions _options;
    private readonly Action<string> _log;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _setupSlots;
    private readonly Lock _gate = new();
    private readonly List<SimCall> _calls = [];
    private readonly List<Task> _background = [];
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly LatencyStats _videoInterval = new();
    private readonly LatencyStats _audioInterval = new();
    private readonly LatencyStats _lateness = new();
    private readonly LatencyStats _totalLateness = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SendPacer _pacer = new();
    private readonly string _runTag = Guid.NewGuid().ToString("N")[..6];
    private readonly MeasurementWindow?[] _windowsById = new MeasurementWindow?[256];
    private MeasurementWindow[] _windows = [];
    private int _nextWindowId;
    private int _nextCall;
    private long _videoSent;
    private long _audioSent;
    private long _videoDelivered;
    private long _audioDelivered;
    private long _skippedFrames;
    private long _sendFailures;
    private long _unexpectedFrames;
    private long _setupFailures;
    private long _loggedFailures;
    private long _lastDeliveryMicros;
    private bool _disposed;

    public CallsEngine(Uri relay, MediaLibrary media, CallsRunOptions options, Action<string> log)
    {
        _relay = relay;
        _media = media;
        _options = options;
        _log = log;
        // No cookies: behind the front door a kept affinity cookie would pin every later sign-in to the first relay;
        // each sign-in and (cookie-less) WebSocket is placed by the front door's load balancing instead.
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5), UseCookies = false })
        {
            BaseAddress = relay,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _setupSlots = new SemaphoreSlim(Math.Max(1, options.SetupConcurrency));
    }

    /// <summary>Calls whose media flows.</summary>
    public int EstablishedCalls
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count(c => c.State == SimCallState.Established);
            }
        }
    }

    /// <summary>Calls established or being set up, not those being stopped.</summary>
    public int WantedCalls
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count(c => c.State is SimCallState.SettingUp or SimCallState.Established);
            }
        }
    }

    public int Participants
    {
        get
        {
            lock (_gate)
            {
                return _calls.Where(c => c.State == SimCallState.Established).Sum(c => c.Participants.Length);
            }
        }
    }

    public long SetupFailures => Interlocked.Read(ref _setupFailures);

    public long SkippedFrames => Interlocked.Read(ref _skippedFrames);

    public long SendFailures => Interlocked.Read(ref _sendFailures);

    public long UnexpectedFrames => Interlocked.Read(ref _unexpectedFrames);

    public IReadOnlyDictionary<string, long> Errors => new Dictionary<string, long>(_errors, StringComparer.Ordinal);

    /// <summary>How late the senders were against their schedule over the whole run (the runner's own health).</summary>
    public LatencySummary SendLateness => _totalLateness.Summary();

    public long LastDeliveryMicros => Interlocked.Read(ref _lastDeliveryMicros);

    /// <summary>
    /// Starts counting frames captured from a moment just ahead. Senders decide each frame's window when they stamp
    /// it (and receivers follow that decision), so the window must be visible to every sender before its start: if
    /// this thread was descheduled past the start before publishing, the attempt is discarded and made again.
    /// </summary>
    public MeasurementWindow OpenWindow(string name)
    {
        while (true)
        {
            var id = (byte)Math.Clamp(Interlocked.Increment(ref _nextWindowId), 1, 255);
            var window = new MeasurementWindow(name, Clock.NowMicros + 100_000, id);
            lock (_gate)
            {
                _windowsById[id] = window;
                _windows = [.. _windows, window];
            }

            if (Clock.NowMicros < window.StartMicros)
            {
                return window;
            }

            lock (_gate)
            {
                _windows = [.. _windows.Where(w => w != window)];
                _windowsById[id] = null;
            }
        }
    }

    /// <summary>Frames captured from now on no longer count in <paramref name="window"/>; those before still do when they arrive.</summary>
    public static void CloseWindow(MeasurementWindow window) => window.Close(Clock.NowMicros);

    /// <summary>Stops attributing anything to <paramref name="window"/> (after late frames had their chance).</summary>
    public void FreezeWindow(MeasurementWindow window)
    {
        window.Frozen = true;
        lock (_gate)
        {
            _windows = [.. _windows.Where(w => w != window)];
        }
    }

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

    /// <summary>
    /// One participant's media: video at the profile's fps and audio every interval, on one absolute schedule from a
    /// random phase, each frame stamped with its capture time just before it is sent.
    /// </summary>
    private async Task SendLoopAsync(SimCall call, int index, CancellationToken cancellationToken)
    {
        var participant = call.Participants[index]!;
        var sender = call.Senders[index];
        var profile = _options.Media;
        var recipients = call.Participants.Length - 1;
        var buffer = new byte[MediaFrameHeader.Size + Math.Max(_media.MaxVideoBytes, _media.AudioFrameBytes)];
        var frequency = Stopwatch.Frequency;
        var origin = Stopwatch.GetTimestamp();
        var video = new MediaSchedule(origin, profile.Video && profile.VideoFps > 0 ? (long)(frequency / profile.VideoFps) : MediaSchedule.Never, sender.VideoBase);
        var audio = new MediaSchedule(origin, profile.Audio && profile.AudioInterval > TimeSpan.Zero ? (long)(frequency * profile.AudioInterval.TotalSeconds) : MediaSchedule.Never, sender.AudioBase);
        var videoOffset = index * 3;

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = Math.Min(video.Next, audio.Next);
                await _pacer.WaitUntil(due);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                var lateMicros = (now - due) * 1_000_000 / frequency;
                _lateness.Record(Math.Max(1, lateMicros));
                _totalLateness.Record(Math.Max(1, lateMicros));

                if (video.Next <= now)
                {
                    Interlocked.Add(ref _skippedFrames, video.SkipMissed(now));
                    var payload = _media.VideoFrames[(int)((video.Index + videoOffset) % _media.VideoFrames.Count)];
                    var capture = Clock.NowMicros;
                    var header = MediaFrameHeader.Video(video.Sequence, call.CallId, capture, MediaLibrary.VideoWidth, MediaLibrary.VideoHeight);
                    await SendFrameAsync(participant, buffer, header, payload, capture, recipients, sender.VideoLog, unchecked(video.Sequence - sender.VideoBase), cancellationToken);
                    video.Advance();
                }

                if (audio.Next <= Stopwatch.GetTimestamp())
                {
                    Interlocked.Add(ref _skippedFrames, audio.SkipMissed(Stopwatch.GetTimestamp()));
                    var payload = _media.AudioFrames[(int)(audio.Index % _media.AudioFrames.Count)];
                    var capture = Clock.NowMicros;
                    var header = MediaFrameHeader.Audio(audio.Sequence, call.CallId, capture, MediaLibrary.AudioChannels, MediaLibrary.AudioSampleRate);
                    await SendFrameAsync(participant, buffer, header, payload, capture, recipients, sender.AudioLog, unchecked(audio.Sequence - sender.AudioBase), cancellationToken);
                    audio.Advance();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendFailures);
            CountError(participant.CloseStatus is { } status ? $"closed_{(int)status}" : "send_failed");
            if (Interlocked.Increment(ref _loggedFailures) <= 5)
            {
                _log($"call {call.Index}: {participant} stopped sending: {Participant.Describe(ex)} {participant.CloseDescription}");
            }
        }
    }

    private ValueTask SendFrameAsync(Participant participant, byte[] buffer, in MediaFrameHeader header, byte[] payload, long captureMicros, int recipients,
        SentLog log, uint offset, CancellationToken cancellationToken)
    {
        header.Write(buffer);
        payload.CopyTo(buffer, MediaFrameHeader.Size);
        return SendAsync(participant, buffer.AsMemory(0, MediaFrameHeader.Size + payload.Length), header.Kind, captureMicros, payload.Length, recipients, log, offset, cancellationToken);
    }

    /// <summary>
    /// Decides the frame's window (by capture time, against the windows open now), records the decision where the
    /// receivers read it, counts the frame as sent, then sends it; a send cancelled at stop takes the count back.
    /// </summary>
    private async ValueTask SendAsync(Participant participant, ReadOnlyMemory<byte> message, MediaKind kind, long captureMicros, int payloadBytes, int recipients,
        SentLog log, uint offset, CancellationToken cancellationToken)
    {
        MeasurementWindow? window = null;
        foreach (var open in Volatile.Read(ref _windows))
        {
            if (!open.Frozen && open.Contains(captureMicros))
            {
                window = open;
                break;
            }
        }

        log.Set(offset, window?.Id ?? 0);
        window?.For(kind).OnSent(payloadBytes, recipients);
        Interlocked.Increment(ref kind == MediaKind.Video ? ref _videoSent : ref _audioSent);
        try
        {
            await participant.SendBinaryAsync(message, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Cancelling an in-flight send aborts it: the frame never reached the relay whole.
            log.Set(offset, 0);
            window?.For(kind).OnSendCancelled(payloadBytes, recipients);
            Interlocked.Decrement(ref kind == MediaKind.Video ? ref _videoSent : ref _audioSent);
            throw;
        }
    }

    public void OnFrame(Participant receiver, in MediaFrameHeader header, int payloadBytes, long receivedMicros)
    {
        if (!receiver.Flows.TryGetValue(header.SenderId, out var trackers))
        {
            Interlocked.Increment(ref _unexpectedFrames);
            return;
        }

        var video = header.Kind == MediaKind.Video;
        var verdict = trackers[video ? 0 : 1].Record(header.Sequence);
        if (verdict == FrameVerdict.Unexpected)
        {
            Interlocked.Increment(ref _unexpectedFrames);
            return;
        }

        var latency = receivedMicros - header.CaptureTimeMicros;
        if (verdict != FrameVerdict.Duplicate)
        {
            Interlocked.Increment(ref video ? ref _videoDelivered : ref _audioDelivered);
            (video ? _videoInterval : _audioInterval).Record(latency);
            Interlocked.Exchange(ref _lastDeliveryMicros, receivedMicros);
        }

        // The sender decided the frame's window before sending it.
        if (trackers[video ? 0 : 1].WindowOf(header.Sequence) is var id and > 0 && Volatile.Read(ref _windowsById[id]) is { Frozen: false } window)
        {
            var stats = window.For(header.Kind);
            if (verdict == FrameVerdict.Duplicate)
            {
                stats.OnDuplicate();
            }
            else
            {
                stats.OnDelivered(latency, payloadBytes, verdict == FrameVerdict.NewOutOfOrder);
            }
        }
    }

    public void OnError(Participant receiver, string code) => CountError(code);

    private void CountError(string code) => _errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    /// <summary>Figures since the previous call (one-second intervals for the timeline).</summary>
    public IntervalFigures TakeInterval()
    {
        return new IntervalFigures(
            Interlocked.Exchange(ref _videoSent, 0),
            Interlocked.Exchange(ref _audioSent, 0),
            Interlocked.Exchange(ref _videoDelivered, 0),
            Interlocked.Exchange(ref _audioDelivered, 0),
            _videoInterval.SummaryAndReset(),
            _audioInterval.SummaryAndReset(),
            _lateness.SummaryAndReset());
    }

    /// <summary>Stops every sender (the calls stay connected, so frames in flight still arrive).</summary>
    public async Task StopSendingAsync()
    {
        List<SimCall> calls;
        lock (_gate)
        {
            calls = [.. _calls];
        }

        foreach (var call in calls)
        {
            await call.SendStop.CancelAsync();
        }

        await Task.WhenAll(calls.SelectMany(c => c.SendLoops)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Per flow (receiver × sender × kind) figures over the whole run.</summary>
    public IReadOnlyList<FlowTracker> Flows()
    {
        lock (_gate)
        {
            return [.. _calls.SelectMany(c => c.Participants).OfType<Participant>().SelectMany(p => p.Flows.Values.SelectMany(f => f))];
        }
    }

    /// <summary>Participants whose connection the relay closed (code → count).</summary>
    public IReadOnlyDictionary<string, int> Disconnects()
    {
        lock (_gate)
        {
            return _calls.SelectMany(c => c.Participants).OfType<Participant>().Where(p => p.LostUnexpectedly)
                .GroupBy(p => p.CloseStatus is { } s ? ((int)s).ToString(CultureInfo.InvariantCulture) : "aborted")
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
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

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await TeardownAsync();
        _pacer.Dispose();
        _http.Dispose();
        _setupSlots.Dispose();
        _stop.Dispose();
    }

    private enum SimCallState
    {
        SettingUp,
        Established,
        Stopping,
        Stopped,
    }

    /// <summary>One call of the scenario: its participants, their sequence numbers and send loops.</summary>
    private sealed class SimCall
    {
        public SimCall(int index, int groupSize)
        {
            Index = index;
            Participants = new Participant?[groupSize];
            Senders = [.. Enumerable.Range(0, groupSize).Select(_ => new SenderState((uint)Random.Shared.Next(), (uint)Random.Shared.Next()))];
        }

        public int Index { get; }

        public Participant?[] Participants { get; }

        public SenderState[] Senders { get; }

        public long CallId { get; set; }

        public SimCallState State { get; set; } = SimCallState.SettingUp;

        public CancellationTokenSource SendStop { get; } = new();

        public Task[] SendLoops { get; set; } = [];
    }

    /// <summary>Where a sender's sequence numbers start (the protocol lets them start anywhere).</summary>
    private sealed record SenderState(uint VideoBase, uint AudioBase)
    {
        public SentLog VideoLog { get; } = new();

        public SentLog AudioLog { get; } = new();
    }
}
