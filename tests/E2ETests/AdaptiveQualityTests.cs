using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using PgVideoChat.TestSupport;

namespace PgVideoChat.E2ETests;

/// <summary>
/// Alice with a detailed camera (23 KB JPEGs at q 0.65, so video is most of the link); the relay's client sockets
/// with a 128-KB kernel send buffer, so a slow link backs frames up in the relay's queue, where they can be dropped
/// and counted, within a second or two (docs/notes/adaptive-quality.md); the relay's <c>Relay:Quality:Enabled</c>
/// switchable between its restarts.
/// </summary>
public sealed class AdaptiveQualityFixture : VideoChatFixture
{
    public bool QualityEnabled { get; set; } = true;

    protected override FakeMediaSpec AliceMedia => FakeMediaSpec.Alice with { Detailed = true };

    protected override IEnumerable<string> AppHostArguments => ["--Relay:FanOut:SocketSendBufferBytes=131072"];

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var relay = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "relay");
        builder.CreateResourceBuilder(relay).WithEnvironment(context =>
            context.EnvironmentVariables["Relay__Quality__Enabled"] = QualityEnabled ? "true" : "false");
    }
}

/// <summary>
/// Bob's browser reaches the relay through a proxy that limits what he receives to 300 KB/s, below Alice's
/// 440 KB/s of video and audio. With adaptation her camera must step down (the step on her tile, her capture under
/// the caps, a setting she picks then capped at once) and come back up once the limit is lifted; without it, she
/// must never be stepped. Both arms print Bob's received fps and latency under the limit (docs/benchmarks.md).
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed class AdaptiveQualityTests(AdaptiveQualityFixture fixture, ITestOutputHelper output)
    : BrowserTest(fixture, output), IClassFixture<AdaptiveQualityFixture>
{
    private const int ThrottleBytesPerSecond = 300_000;
    private static readonly TimeSpan ThrottleTime = TimeSpan.FromSeconds(25);

    private const string AliceView = """
        () => ({
          level: window.pgvc.qualityStep?.level ?? 0,
          quality: window.pgvc.videoSettings.quality,
          width: window.pgvc.videoSettings.width,
          frameWidth: window.pgvc.localVideo?.frameWidth ?? 0,
          frameBytes: window.pgvc.localVideo?.lastFrameBytes ?? 0,
          badge: !document.querySelector('[data-testid=local-quality]').hidden,
        })
        """;

    [Fact]
    public Task A_throttled_receiver_steps_its_peers_camera_down_and_back_up_and_without_adaptation_never_does() => RunAsync(async () =>
    {
        await using var proxy = new ThrottledProxy(Fixture.App.GetEndpoint("relay", "http"));
        await Task.WhenAll(
            Alice.OpenAsync(Fixture.WebClientUrl),
            Bob.OpenAsync(Fixture.WebClientUrl, prepare: context => context.RouteAsync("**/config.json", async route =>
            {
                var response = await route.FetchAsync();
                var config = JsonNode.Parse(await response.TextAsync())!;
                config["relayUrl"] = proxy.Url.ToString().TrimEnd('/');
                await route.FulfillAsync(new() { Response = response, Body = config.ToJsonString() });
            })));
        await Alice.SignInAsync();
        await Bob.SignInAsync();
        await VideoChatFixture.ExpectOnlineAsync(Alice, Bob);
        await Fixture.CallAsync(Alice, Bob);
        await VideoChatFixture.WaitForVideoAsync(Bob, Alice, TimeSpan.FromSeconds(30));
        Assert.True(proxy.Connections > 0, "Bob's relay connection does not go through the throttling proxy.");

        var before = await ViewAsync();
        Assert.Equal(0, before.Level);
        Assert.Equal(640, before.FrameWidth);

        // With adaptation: down under the limit, a setting picked meanwhile capped at once, back up after it.
        proxy.BytesPerSecond = ThrottleBytesPerSecond;
        var withAdaptation = await ThrottleAsync(proxy, async stepped =>
        {
            Assert.True(stepped.Badge, $"The step does not show on Alice's tile: {stepped}");
            Assert.True(stepped.Quality <= 0.5, $"Alice's capture is at JPEG quality {stepped.Quality}, above the step's cap 0.5.");
            await PickQualityAsync(0.9);
            var picked = await ViewAsync();
            Assert.True(picked.Quality <= 0.5, $"A quality Alice picks while stepped down is not capped at once: {picked}");
        });
        Assert.True(withAdaptation.StepDownAt is not null, "Alice was never stepped down under the limit.");

        proxy.BytesPerSecond = 0;
        await WaitForViewAsync(v => v.Level == 0 && !v.Badge, TimeSpan.FromSeconds(40), "back at step 0 after the limit is lifted");
        await WaitForViewAsync(v => v.Quality == 0.9 && v.FrameWidth == 640, TimeSpan.FromSeconds(5), "the quality she picked, at full size, once back at step 0");

        // Without adaptation: the same limit, and Alice is never asked to step down.
        fixture.QualityEnabled = false;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            await Fixture.App.RestartResourceAsync("relay", cts.Token);
            await Fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay", cts.Token);
        }

        await PickQualityAsync(0.65);
        await WaitForReceivedFpsAsync(TimeSpan.FromSeconds(45));
        proxy.BytesPerSecond = ThrottleBytesPerSecond;
        var without = await ThrottleAsync(proxy, stepped => throw new E2EFailureException($"Alice was stepped down with Relay:Quality:Enabled=false: {stepped}"));
        proxy.BytesPerSecond = 0;
        Assert.Null(without.StepDownAt);

        Log($"figures at {ThrottleBytesPerSecond / 1000} KB/s to Bob, seconds 10-25 of the limit: with adaptation {withAdaptation.Summary}; without {without.Summary}");
    });

    private sealed record View(int Level, double Quality, int Width, int FrameWidth, int FrameBytes, bool Badge);

    private sealed record ArmResult(double? StepDownAt, int MaxLevel, string Summary);

    private async Task<View> ViewAsync()
    {
        var e = await Alice.EvalJsonAsync(AliceView);
        return new View(e.GetProperty("level").GetInt32(), e.GetProperty("quality").GetDouble(), e.GetProperty("width").GetInt32(),
            e.GetProperty("frameWidth").GetInt32(), e.GetProperty("frameBytes").GetInt32(), e.GetProperty("badge").GetBoolean());
    }

    private async Task<View> WaitForViewAsync(Func<View, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var view = await ViewAsync();
            if (condition(view))
            {
                return view;
            }

            if (clock.Elapsed > timeout)
            {
                throw new E2EFailureException($"Alice's camera did not reach '{what}' within {timeout.TotalSeconds} s: {view}");
            }

            await Task.Delay(250);
        }
    }

    private Task PickQualityAsync(double quality) => Alice.EvalJsonAsync(
        "q => { const s = document.getElementById('setting-quality'); s.value = String(q); s.dispatchEvent(new Event('change')); return s.value; }",
        quality);

    private async Task WaitForReceivedFpsAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while ((await Bob.EvalJsonAsync("id => window.pgvc.stats(id)", Alice.UserId)).GetProperty("fps").GetDouble() < 12)
        {
            if (clock.Elapsed > timeout)
            {
                throw new E2EFailureException($"Bob did not receive Alice's video at 12 fps or more within {timeout.TotalSeconds} s of the relay's restart.");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Samples once a second under the limit: Alice's step, Bob's received video fps and latency p50 (the figures from
    /// second 10 on); <paramref name="onStepped"/> sees the first sample with Alice stepped down.
    /// </summary>
    private async Task<ArmResult> ThrottleAsync(ThrottledProxy proxy, Func<View, Task> onStepped)
    {
        var clock = Stopwatch.StartNew();
        double? stepDownAt = null;
        var maxLevel = 0;
        var fps = new List<double>();
        var latency = new List<double>();
        while (clock.Elapsed < ThrottleTime)
        {
            var view = await ViewAsync();
            var bob = await Bob.EvalJsonAsync("id => window.pgvc.stats(id)", Alice.UserId);
            var seconds = clock.Elapsed.TotalSeconds;
            maxLevel = Math.Max(maxLevel, view.Level);
            if (view.Level > 0 && stepDownAt is null)
            {
                stepDownAt = Math.Round(seconds, 1);
                await onStepped(view);
            }

            var receivedFps = bob.GetProperty("fps").GetDouble();
            var latencyP50 = bob.GetProperty("latencyMsP50") is { ValueKind: JsonValueKind.Number } l ? l.GetDouble() : double.NaN;
            if (seconds >= 10)
            {
                fps.Add(receivedFps);
                if (!double.IsNaN(latencyP50))
                {
                    latency.Add(latencyP50);
                }
            }

            Log(string.Create(CultureInfo.InvariantCulture, $"t={seconds:F0} s: Alice step {view.Level}, q {view.Quality}, {view.FrameWidth} px, {view.FrameBytes} B; Bob gets {receivedFps} fps, p50 {latencyP50} ms; proxy passed {proxy.BytesDown} B"));
            await Task.Delay(1000);
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"stepped down at {stepDownAt?.ToString(CultureInfo.InvariantCulture) ?? "never"} s, max step {maxLevel}, Bob's fps median {Median(fps):F1}, latency p50 median {Median(latency):F0} ms (max {(latency.Count == 0 ? double.NaN : latency.Max()):F0})");
        return new ArmResult(stepDownAt, maxLevel, summary);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
