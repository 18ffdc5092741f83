using System.Diagnostics;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PgVideoChat.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// The real app model (Postgres, relay, web client) started through the AppHost's test entry point
/// (Aspire.Hosting.Testing) on free ports, and one Chromium process per participant with that participant's fake
/// camera and microphone. One per test class; a subclass can start a variant of the app model
/// (<see cref="AppHostArguments"/>).
/// </summary>
public class VideoChatFixture : IAsyncLifetime
{
    private static readonly TimeSpan CallSetUpTimeout = TimeSpan.FromSeconds(30);

    private readonly Lock _carolGate = new();
    private Task<Participant>? _carolLaunch;
    private readonly string _mediaDirectory = Path.Combine(Path.GetTempPath(), $"pgvc-e2e-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private DistributedApplication? _app;
    private IPlaywright? _playwright;
    private string _chromium = string.Empty;
    private Participant? _alice;
    private Participant? _bob;
    private Participant? _carol;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>The web client's URL by the name the relay allows as an origin (http://localhost:port/).</summary>
    public Uri WebClientUrl { get; private set; } = new("http://localhost/");

    public Participant Alice => _alice ?? throw new InvalidOperationException("Alice's browser is not running.");

    public Participant Bob => _bob ?? throw new InvalidOperationException("Bob's browser is not running.");

    public IEnumerable<Participant> Participants => new[] { _alice, _bob, _carol }.OfType<Participant>();

    /// <summary>Where the current test writes progress lines (set by <see cref="BrowserTest"/>).</summary>
    public ITestOutputHelper? Output { get; set; }

    public TimeSpan StartUpTime { get; private set; }

    /// <summary>Extra AppHost arguments for a variant of the app model (e.g. <c>--Relay:Replicas=3</c>).</summary>
    protected virtual IEnumerable<string> AppHostArguments => [];

    /// <summary>What Alice's fake camera and microphone show and play (a variant may give her a detailed camera).</summary>
    protected virtual FakeMediaSpec AliceMedia => FakeMediaSpec.Alice;

    /// <summary>Changes the app model's builder before it builds (e.g. an environment callback on the relay).</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    /// <summary>Every project of the app model (relay, or relay-0, relay-1, … with replicas; the front door; the web client).</summary>
    private static IEnumerable<string> Projects(DistributedApplicationModel model) =>
        model.Resources.OfType<ProjectResource>().Select(p => p.Name);

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        _chromium = Chromium.Resolve();
        Directory.CreateDirectory(_mediaDirectory);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            var appTask = StartAppAsync(cts.Token);
            Assertions.SetDefaultExpectTimeout(20_000);
            _playwright = await Playwright.CreateAsync();
            var alice = Participant.LaunchAsync(_playwright, _chromium, _mediaDirectory, AliceMedia);
            var bob = Participant.LaunchAsync(_playwright, _chromium, _mediaDirectory, FakeMediaSpec.Bob);
            _ = CarolAsync(); // idle until a test opens her page; launching later, next to a running call, is slow
            _alice = await alice;
            _bob = await bob;
            await appTask;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }

        StartUpTime = clock.Elapsed;
    }

    private async Task StartAppAsync(CancellationToken cancellationToken)
    {
        // Every project: with replicas there is no resource named plain "relay".
        _app = await AppModel.StartAsync<global::Projects.AppHost>(AppHostArguments, Projects, Configure, AppModel.DefaultStartTimeout, cancellationToken);
        var endpoint = new UriBuilder(_app.GetEndpoint("webclient")) { Host = "localhost", Path = "/" };
        WebClientUrl = endpoint.Uri;
    }

    /// <summary>Carol's browser, launched the first time a test needs her.</summary>
    public async Task<Participant> CarolAsync()
    {
        lock (_carolGate)
        {
            _carolLaunch ??= Participant.LaunchAsync(_playwright!, _chromium, _mediaDirectory, FakeMediaSpec.Carol);
        }

        return _carol = await _carolLaunch;
    }

    /// <summary>Signs Carol out by closing her page (her idle camera preview costs CPU the others need).</summary>
    public async Task CloseCarolAsync()
    {
        if (_carol is { HasPage: true } carol)
        {
            await carol.CloseAsync();
        }
    }

    public void Log(string line) => Output?.WriteLine($"[{DateTime.UtcNow:HH:mm:ss.fff}] {line}");

    /// <summary>New sessions for Alice and Bob: fresh pages, signed in through the form, each seeing the other online.</summary>
    public async Task SignInAliceAndBobAsync()
    {
        await Task.WhenAll(Alice.OpenAsync(WebClientUrl), Bob.OpenAsync(WebClientUrl));
        Log("pages open");
        await Alice.SignInAsync();
        Log("Alice signed in");
        await Bob.SignInAsync();
        Log("Bob signed in");
        await ExpectOnlineAsync(Alice, Bob);
        await ExpectOnlineAsync(Bob, Alice);
        Log($"signed in: Alice #{Alice.UserId}, Bob #{Bob.UserId}");
    }

    /// <summary>The viewer's presence list shows the other person, by name.</summary>
    public static async Task ExpectOnlineAsync(Participant viewer, Participant other)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        ArgumentNullException.ThrowIfNull(other);
        var entry = viewer.ByTestId($"presence-user-{other.UserId}");
        await Expect(entry).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(entry).ToContainTextAsync(other.Name);
    }

    /// <summary>The caller presses Call next to the callee, the callee accepts the incoming prompt, both show `active`.</summary>
    public async Task CallAsync(Participant caller, Participant callee)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(callee);
        var timeout = (float)CallSetUpTimeout.TotalMilliseconds;
        await caller.ByTestId($"call-user-{callee.UserId}").ClickAsync();
        var incoming = callee.ByTestId("incoming-call");
        await Expect(incoming).ToBeVisibleAsync(new() { Timeout = timeout });
        await Expect(incoming).ToContainTextAsync(caller.Name);
        await callee.ByTestId("incoming-accept").ClickAsync();
        await Expect(callee.ByTestId("incoming-call")).ToBeHiddenAsync(new() { Timeout = timeout });
        await Expect(caller.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = timeout });
        await Expect(callee.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = timeout });
        Log($"{caller.Name} and {callee.Name} are in an active call");
    }

    /// <summary>
    /// Brings Alice and Bob into an active call with each other, camera and microphone on, receiving each other's
    /// video: reuses the call a previous test left when it is still healthy, otherwise signs in anew and calls.
    /// </summary>
    public async Task EnsureAliceAndBobInCallAsync()
    {
        if (await WhyNoHealthyCallAsync() is { } why)
        {
            Log($"setting up a new call between Alice and Bob ({why})");
            await SignInAliceAndBobAsync();
            await CallAsync(Alice, Bob);
        }

        else
        {
            Log("reusing the call between Alice and Bob");
        }

        await WaitForVideoAsync(Alice, Bob, TimeSpan.FromSeconds(30));
        await WaitForVideoAsync(Bob, Alice, TimeSpan.FromSeconds(30));
        Log("Alice and Bob see each other's video");
    }

    /// <summary>Null when Alice and Bob are in a healthy active call with each other; otherwise why not.</summary>
    private async Task<string?> WhyNoHealthyCallAsync()
    {
        if (!Alice.HasPage || !Bob.HasPage || Alice.UserId == 0 || Bob.UserId == 0)
        {
            return "not both signed in";
        }

        const string check = """
            ([me, other]) => {
              const p = window.pgvc;
              const call = p?.currentCall;
              if (!p || p.userId !== me) return { problem: 'signed in as someone else' };
              if (p.connectionState !== 'connected') return { problem: `connection ${p.connectionState}` };
              if (!call || call.state !== 'active') return { problem: `call ${call?.state ?? 'none'}` };
              const shown = document.querySelector('[data-testid="call-state"]')?.textContent;
              if (shown !== 'active') return { problem: `call-state shows ${shown}` };
              const joined = (id) => call.participants.some((x) => x.userId === id && x.state === 'joined');
              if (!joined(me) || !joined(other)) return { problem: 'not both joined' };
              const m = p.media;
              if (!m.camAvailable || !m.camOn || !m.micAvailable || !m.micOn) return { problem: `media ${JSON.stringify(m)}` };
              return { callId: call.callId };
            }
            """;
        try
        {
            var alice = await Alice.EvalJsonAsync(check, new[] { Alice.UserId, Bob.UserId });
            var bob = await Bob.EvalJsonAsync(check, new[] { Bob.UserId, Alice.UserId });
            if (alice.TryGetProperty("problem", out var aliceProblem))
            {
                return $"Alice: {aliceProblem.GetString()}";
            }

            if (bob.TryGetProperty("problem", out var bobProblem))
            {
                return $"Bob: {bobProblem.GetString()}";
            }

            return alice.GetProperty("callId").GetInt64() == bob.GetProperty("callId").GetInt64() ? null : "not the same call";
        }
        catch (PlaywrightException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Waits until the viewer has drawn video frames of the other participant.</summary>
    public static Task WaitForVideoAsync(Participant viewer, Participant other, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        ArgumentNullException.ThrowIfNull(other);
        return viewer.WaitForAsync(
            "id => window.pgvc.stats(id).framesReceived > 0 && window.pgvc.pixel(id, 0.5, 0.5) !== null",
            other.UserId,
            timeout,
            $"drawing {other.Name}'s video");
    }

    /// <summary>
    /// Saves a screenshot, the console log and the client state of every open page, and the app's resource logs,
    /// under artifacts/e2e/&lt;test name&gt;/. Returns the files written.
    /// </summary>
    public async Task<IReadOnlyList<string>> SaveArtifactsAsync(string testName, Exception? failure)
    {
        var directory = Path.Combine(RepositoryRoot(), "artifacts", "e2e", testName);
        var written = new List<string>();
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            Directory.CreateDirectory(directory);
            var failurePath = Path.Combine(directory, "outcome.txt");
            await File.WriteAllTextAsync(failurePath, failure?.ToString() ?? "passed");
            written.Add(failurePath);
        }
        catch (IOException ex)
        {
            written.Add($"(could not create {directory}: {ex.Message})");
            return written;
        }

        foreach (var participant in Participants)
        {
            var name = participant.Name.ToLowerInvariant();
            if (participant.HasPage)
            {
                var screenshot = Path.Combine(directory, $"{name}.png");
                try
                {
                    await participant.Page.ScreenshotAsync(new() { Path = screenshot, FullPage = true, Timeout = 15_000 });
                    written.Add(screenshot);
                }
                catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
                {
                    participant.Note("test", $"screenshot failed: {ex.Message}");
                }

                var state = Path.Combine(directory, $"{name}-state.json");
                try
                {
                    await File.WriteAllTextAsync(state, await participant.DescribeStateAsync().WaitAsync(TimeSpan.FromSeconds(15)));
                    written.Add(state);
                }
                catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
                {
                    participant.Note("test", $"reading the client state failed: {ex.Message}");
                }
            }

            var console = Path.Combine(directory, $"{name}-console.log");
            await File.WriteAllTextAsync(console, participant.ConsoleLog);
            written.Add(console);
        }

        if (_app is not null)
        {
            var logs = _app.GetResourceLogs();
            foreach (var resource in Projects(_app.Services.GetRequiredService<DistributedApplicationModel>()).Append("postgres"))
            {
                var lines = logs.GetLines(resource);
                if (lines.Count == 0)
                {
                    continue;
                }

                var path = Path.Combine(directory, $"{resource}.log");
                var text = new StringBuilder();
                foreach (var line in lines)
                {
                    // Aspire's lines start with their UTC timestamp already.
                    text.Append(line.IsError ? "ERR " : "    ").AppendLine(line.Content);
                }

                await File.WriteAllTextAsync(path, text.ToString());
                written.Add(path);
            }
        }

        return written;
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PgVideoChat.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    public async Task DisposeAsync()
    {
        if (_carolLaunch is not null)
        {
            try
            {
                _carol = await _carolLaunch;
            }
            catch (PlaywrightException)
            {
            }
        }

        foreach (var participant in Participants)
        {
            await participant.DisposeAsync();
        }

        _alice = _bob = _carol = null;
        _playwright?.Dispose();
        _playwright = null;
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }

        try
        {
            Directory.Delete(_mediaDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

    }
}
