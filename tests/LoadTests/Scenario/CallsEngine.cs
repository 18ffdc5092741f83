using System.Collections.Concurrent;
using System.Globalization;
using PgVideoChat.LoadTests.Client;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Scenario;

/// <summary>Per-second figures of the media flowing, for the live view and the timeline.</summary>
public sealed record IntervalFigures(long VideoSent, long AudioSent, long VideoDelivered, long AudioDelivered, LatencySummary VideoLatency, LatencySummary AudioLatency, LatencySummary SendLateness);

/// <summary>
/// Runs calls against a relay: sets calls up through the real protocol (sign-in, WebSocket, call.invite, call.accept,
/// until every participant sees the call active), paces each participant's video and audio on an absolute schedule
/// over its one WebSocket, and attributes every received frame to the open measurement windows by capture time.
/// </summary>
internal sealed partial class CallsEngine : IMediaSink, IAsyncDisposable
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

    /// <summary>Established calls being recorded (<c>--record</c>).</summary>
    public int RecordedCalls
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count(c => c.State == SimCallState.Established && c.Recorded);
            }
        }
    }

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
}
