using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// One person: their own Chromium process (the fake camera and microphone are per process), and the web client
/// open in a fresh browser context of it. Everything the page writes to its console is kept from the start.
/// </summary>
public sealed class Participant : IAsyncDisposable
{
    /// <summary>
    /// Counts the binary (media) messages the page's WebSockets receive, per sender, before the client sees them:
    /// what the relay delivered, whatever the client then does with it. Test instrumentation only.
    /// </summary>
    private const string WireCounterScript = """
        (() => {
          const Native = window.WebSocket;
          const wire = { sockets: 0, binaryIn: 0, videoIn: 0, audioIn: 0, bySender: {} };
          Object.defineProperty(window, '__pgvcWire', { value: wire });
          class CountingWebSocket extends Native {
            constructor(...args) {
              super(...args);
              wire.sockets++;
              this.addEventListener('message', (ev) => {
                if (typeof ev.data === 'string') return;
                wire.binaryIn++;
                if (ev.data instanceof ArrayBuffer && ev.data.byteLength >= 40) {
                  const view = new DataView(ev.data);
                  const kind = view.getUint8(1);
                  if (kind === 1) wire.videoIn++; else if (kind === 2) wire.audioIn++;
                  const sender = String(view.getBigUint64(32));
                  wire.bySender[sender] = (wire.bySender[sender] ?? 0) + 1;
                }
              });
            }
          }
          window.WebSocket = CountingWebSocket;

          // How long the camera frames' JPEG encoding (canvas.toBlob) takes: a slow one makes the client skip frames.
          const encode = { calls: 0, done: 0, totalMs: 0, maxMs: 0, slow: 0 };
          Object.defineProperty(window, '__pgvcEncode', { value: encode });
          const toBlob = HTMLCanvasElement.prototype.toBlob;
          HTMLCanvasElement.prototype.toBlob = function (callback, ...rest) {
            const t0 = performance.now();
            encode.calls++;
            return toBlob.call(this, (blob) => {
              const ms = performance.now() - t0;
              encode.done++;
              encode.totalMs += ms;
              encode.maxMs = Math.max(encode.maxMs, ms);
              if (ms > 1000 / 15) encode.slow++;
              callback(blob);
            }, ...rest);
          };
        })();
        """;

    private readonly IBrowser _browser;
    private readonly ConcurrentQueue<string> _console = new();
    private IBrowserContext? _context;
    private IPage? _page;
    private int _session;

    private Participant(FakeMediaSpec spec, IBrowser browser)
    {
        Spec = spec;
        _browser = browser;
        browser.Disconnected += (_, _) => Note("browser", "the browser process disconnected (crashed or closed)");
    }

    public FakeMediaSpec Spec { get; }

    public string Name => Spec.Name;

    /// <summary>The relay's id for the current session's user (after <see cref="SignInAsync"/>).</summary>
    public long UserId { get; private set; }

    public bool HasPage => _page is { IsClosed: false };

    public IPage Page => _page ?? throw new InvalidOperationException($"{Name} has no page open.");

    public ILocator ByTestId(string testId) => Page.GetByTestId(testId);

    public static async Task<Participant> LaunchAsync(IPlaywright playwright, string chromium, string mediaDirectory, FakeMediaSpec spec)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        ArgumentNullException.ThrowIfNull(spec);
        var video = Path.Combine(mediaDirectory, FakeMedia.VideoFileName(spec));
        var audio = Path.Combine(mediaDirectory, $"{spec.Name.ToLowerInvariant()}.wav");
        if (!File.Exists(video))
        {
            FakeMedia.WriteY4m(video, spec);
        }

        if (!File.Exists(audio))
        {
            FakeMedia.WriteWav(audio, spec.ToneHz);
        }

        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Timeout = 60_000,
            Args =
            [
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
                $"--use-file-for-fake-video-capture={video}",
                $"--use-file-for-fake-audio-capture={audio}",
            ],
        });
        return new Participant(spec, browser);
    }

    /// <summary>
    /// Closes the current page (its user goes offline) and opens the web client in a new context, empty but for
    /// <paramref name="cookies"/> (e.g. a front door's affinity cookie, as if from an earlier visit);
    /// <paramref name="prepare"/> may change the context before the page opens (e.g. route its requests).
    /// </summary>
    public async Task OpenAsync(Uri webClient, IEnumerable<Cookie>? cookies = null, Func<IBrowserContext, Task>? prepare = null)
    {
        ArgumentNullException.ThrowIfNull(webClient);
        await CloseAsync();
        var session = Interlocked.Increment(ref _session);
        Note("test", $"--- session {session}: opening {webClient}");
        _context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
            BaseURL = webClient.ToString(),
        });
        // Generous: a page opening next to a running call on a busy 2-core machine has taken over 20 s.
        _context.SetDefaultTimeout(45_000);
        _context.SetDefaultNavigationTimeout(60_000);
        await _context.AddInitScriptAsync(WireCounterScript);
        if (cookies is not null)
        {
            await _context.AddCookiesAsync(cookies);
        }

        if (prepare is not null)
        {
            await prepare(_context);
        }

        var page = await _context.NewPageAsync();
        page.Console += (_, message) => Note($"console.{message.Type}", message.Text);
        page.PageError += (_, error) => Note("pageerror", error);
        page.Crash += (_, _) => Note("crash", "the page crashed");
        page.RequestFailed += (_, request) => Note("requestfailed", $"{request.Method} {request.Url}: {request.Failure}");
        page.WebSocket += (_, ws) =>
        {
            var url = RedactToken(ws.Url);
            Note("websocket", $"open {url}");
            ws.Close += (_, _) => Note("websocket", $"closed {url}");
            ws.SocketError += (_, error) => Note("websocket", $"error {url}: {error}");
        };
        _page = page;
        await page.GotoAsync(webClient.ToString());
        Note("test", "page loaded");
        await Expect(ByTestId("signin-form")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(ByTestId("signin-submit")).ToBeEnabledAsync();
        Note("test", "sign-in form ready");
    }

    /// <summary>Signs in through the form with the participant's name and waits for the relay connection.</summary>
    public async Task SignInAsync()
    {
        await ByTestId("signin-name").FillAsync(Name);
        await ByTestId("signin-submit").ClickAsync();
        Note("test", "sign-in submitted");
        await Expect(ByTestId("me-name")).ToHaveTextAsync(Name, new() { Timeout = 30_000 });
        Note("test", "signed in, waiting for the relay connection");
        await Expect(ByTestId("connection-status")).ToHaveTextAsync("connected", new() { Timeout = 30_000 });
        UserId = await Page.EvaluateAsync<long>("() => window.pgvc.userId");
        Note("test", $"signed in as {Name}, user id {UserId}");
    }

    public async Task<T> EvalAsync<T>(string expression, object? arg = null) => await Page.EvaluateAsync<T>(expression, arg);

    public Task<JsonElement> EvalJsonAsync(string expression, object? arg = null) => EvalAsync<JsonElement>(expression, arg);

    /// <summary>pgvc.stats(user) of the video and audio received from a user.</summary>
    public async Task<ReceiveStats> StatsOfAsync(long userId)
    {
        var s = await EvalJsonAsync("id => window.pgvc.stats(id)", userId);
        return new ReceiveStats(
            s.GetProperty("fps").GetDouble(),
            s.GetProperty("framesReceived").GetInt64(),
            s.TryGetProperty("audioFramesReceived", out var audio) ? audio.GetInt64() : 0);
    }

    /// <summary>Waits until the page satisfies a JavaScript predicate (polled), with a message saying what was awaited.</summary>
    public async Task WaitForAsync(string predicate, object? arg, TimeSpan timeout, string what)
    {
        try
        {
            await Page.WaitForFunctionAsync(predicate, arg, new PageWaitForFunctionOptions
            {
                Timeout = (float)timeout.TotalMilliseconds,
                PollingInterval = 250,
            });
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{Name}: {what} did not happen within {timeout.TotalSeconds:F0} s.", ex);
        }
    }

    public void Note(string kind, string text) =>
        _console.Enqueue($"{DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{kind}] {text}");

    public string ConsoleLog => string.Join('\n', _console);

    /// <summary>The client's state as the test hooks report it, for failure reports.</summary>
    public async Task<string> DescribeStateAsync()
    {
        if (!HasPage)
        {
            return "{}";
        }

        return await Page.EvaluateAsync<string>("""
            () => {
              const p = window.pgvc;
              if (!p) return JSON.stringify({ hooks: 'window.pgvc is missing' });
              const peers = [...document.querySelectorAll('[data-testid^="remote-tile-"]')].map((t) => Number(t.dataset.userId));
              const call = p.currentCall;
              const ids = new Set([...peers, ...(call?.participants ?? []).map((x) => x.userId)]);
              const perPeer = {};
              for (const id of ids) perPeer[id] = { stats: p.stats(id), audio: p.audioLevel(id), pixel: p.pixel(id, 0.15, 0.15) };
              return JSON.stringify({
                userId: p.userId, displayName: p.displayName, connectionState: p.connectionState,
                statusText: document.querySelector('[data-testid="connection-status"]')?.textContent,
                callStateText: document.querySelector('[data-testid="call-state"]')?.textContent,
                currentCall: call, media: p.media, localFramesSent: p.localFramesSent,
                localAudioFramesSent: p.localAudioFramesSent, relayCounters: p.client?.counters ?? null,
                lastClose: p.client?.lastClose ?? null, wire: window.__pgvcWire ?? null, encode: window.__pgvcEncode ?? null, peers: perPeer,
                chat: p.chatMessages,
              }, null, 2);
            }
            """);
    }

    public async Task CloseAsync()
    {
        var context = _context;
        _context = null;
        _page = null;
        UserId = 0;
        if (context is not null)
        {
            try
            {
                await context.CloseAsync();
            }
            catch (PlaywrightException ex)
            {
                Note("test", $"closing the context failed: {ex.Message}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        try
        {
            await _browser.CloseAsync();
        }
        catch (PlaywrightException)
        {
        }
    }

    private static string RedactToken(string url)
    {
        var at = url.IndexOf("access_token=", StringComparison.Ordinal);
        return at < 0 ? url : url[..(at + "access_token=".Length)] + "…";
    }
}

public readonly record struct ReceiveStats(double Fps, long FramesReceived, long AudioFramesReceived);
