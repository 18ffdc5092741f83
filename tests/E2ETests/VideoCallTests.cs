using System.Globalization;
using System.Text.Json;
using PgVideoChat.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// Alice and Bob in a call, each in their own Chromium with their own fake camera (red / blue, with a moving white
/// square) and microphone (440 Hz / 880 Hz). Tests reuse the call a previous test left when it is still healthy,
/// and set up a new one otherwise, so each can run and fail on its own.
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed partial class VideoCallTests(VideoChatFixture fixture, ITestOutputHelper output)
    : BrowserTest(fixture, output), IClassFixture<VideoChatFixture>
{
    private const double MinFps = 12;

    [Fact]
    public Task SignInSeeEachOtherOnlineAndCall() => RunAsync(async () =>
    {
        // Fresh sessions, whatever an earlier test left.
        await Task.WhenAll(Alice.OpenAsync(Fixture.WebClientUrl), Bob.OpenAsync(Fixture.WebClientUrl));
        await Expect(Alice.ByTestId("connection-status")).ToHaveTextAsync("signed-out");

        await Alice.SignInAsync();
        await Bob.SignInAsync();
        Assert.NotEqual(Alice.UserId, Bob.UserId);
        await Expect(Alice.ByTestId("me-name")).ToHaveTextAsync("Alice");
        await Expect(Bob.ByTestId("me-name")).ToHaveTextAsync("Bob");

        await VideoChatFixture.ExpectOnlineAsync(Alice, Bob);
        await VideoChatFixture.ExpectOnlineAsync(Bob, Alice);

        await Alice.ByTestId($"call-user-{Bob.UserId}").ClickAsync();
        var incoming = Bob.ByTestId("incoming-call");
        await Expect(incoming).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(incoming).ToContainTextAsync("Alice is calling you");
        await Bob.ByTestId("incoming-accept").ClickAsync();

        await Expect(Alice.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = 30_000 });
        await Expect(Bob.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = 30_000 });
        await Expect(Bob.ByTestId("incoming-call")).ToBeHiddenAsync();
        await Expect(Alice.ByTestId("hangup")).ToBeVisibleAsync();
        await Expect(Bob.ByTestId("hangup")).ToBeVisibleAsync();
    });

    [Fact]
    public Task EachSeesTheOthersMovingPictureAtFullRate() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();

        // Let a new call settle (first frames, JIT, replication start-up) before measuring: 30 more frames each way.
        var aliceFrom = (await Alice.StatsOfAsync(Bob.UserId)).FramesReceived;
        var bobFrom = (await Bob.StatsOfAsync(Alice.UserId)).FramesReceived;
        await Task.WhenAll(
            Alice.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Bob.UserId, aliceFrom + 30 }, TimeSpan.FromSeconds(20), "30 more frames of Bob"),
            Bob.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Alice.UserId, bobFrom + 30 }, TimeSpan.FromSeconds(20), "30 more frames of Alice"));

        var duration = TimeSpan.FromSeconds(10);
        var interval = TimeSpan.FromMilliseconds(500);
        for (var window = 1; ; window++)
        {
            var aliceSentBefore = await SenderCountersAsync(Alice);
            var bobSentBefore = await SenderCountersAsync(Bob);
            var aliceSeesBob = MediaChecks.SampleVideoAsync(Alice, Bob, duration, interval);
            var bobSeesAlice = MediaChecks.SampleVideoAsync(Bob, Alice, duration, interval);
            await Task.WhenAll(aliceSeesBob, bobSeesAlice);
            var aliceSent = (await SenderCountersAsync(Alice)).Since(aliceSentBefore);
            var bobSent = (await SenderCountersAsync(Bob)).Since(bobSentBefore);
            var problems = new List<string>();
            var rateProblems = new List<string>();
            CheckVideo(Alice, Bob, await aliceSeesBob, bobSent, problems, rateProblems);
            CheckVideo(Bob, Alice, await bobSeesAlice, aliceSent, problems, rateProblems);
            if (problems.Count == 0 && rateProblems.Count == 0)
            {
                return;
            }

            // The colour, the motion and a steady stream must hold in every window. The rate gets one more 10-s window:
            // other work on this 2-core machine can starve the senders' capture loops for a while (see the sender
            // numbers in the message); a pipeline that is really slower than 12 fps fails both windows.
            if (problems.Count > 0 || window == 2)
            {
                Assert.Fail(string.Join(Environment.NewLine, problems.Concat(rateProblems)));
            }

            Log($"below {MinFps} fps in the first 10-s window; measuring a second window");
        }
    });

    private void CheckVideo(Participant viewer, Participant sender, IReadOnlyList<VideoSample> samples, SenderCounters sent, List<string> problems, List<string> rateProblems)
    {
        var who = $"{viewer.Name}'s view of {sender.Name}";
        var first = samples[0];
        var last = samples[^1];
        var seconds = (last.TimeMs - first.TimeMs) / 1000;
        var meanFps = (last.FramesReceived - first.FramesReceived) / seconds;
        var medianFps = MediaChecks.Median(samples.Select(s => s.Fps));
        var positions = samples.Select(s => s.SquareAt).OfType<int>().Distinct().Count();
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{who}: {samples.Count} samples over {seconds:F1} s, {last.FramesReceived - first.FramesReceived} frames " +
            $"({meanFps:F1} fps on average, median sampled fps {medianFps}, lowest {samples.Min(s => s.Fps)}), " +
            $"the square at {positions} distinct places; {sender.Name} {sent}");
        Log(summary);
        var details = $"{summary}{Environment.NewLine}    {string.Join($"{Environment.NewLine}    ", samples)}";

        var wrongColour = samples.Where(s => s.SpotColour != sender.Spec.Colour).ToList();
        if (wrongColour.Count > 0)
        {
            problems.Add($"{who} does not show {sender.Name}'s {sender.Spec.Colour} in {wrongColour.Count} of {samples.Count} samples. {details}");
        }

        if (meanFps < MinFps || medianFps < MinFps)
        {
            rateProblems.Add(string.Create(CultureInfo.InvariantCulture, $"{who} receives fewer than {MinFps} fps. {details}"));
        }

        // Frames keep coming (no stall of two seconds), and the picture moves.
        for (var i = 4; i < samples.Count; i++)
        {
            if (samples[i].FramesReceived <= samples[i - 4].FramesReceived)
            {
                problems.Add($"{who}: no new frame between {samples[i - 4]} and {samples[i]}. {details}");
                break;
            }
        }

        if (positions < 3)
        {
            problems.Add($"{who}: the moving square was seen at {positions} place(s) only; the picture does not change. {details}");
        }
    }

    private static async Task<SenderCounters> SenderCountersAsync(Participant sender)
    {
        var c = await sender.EvalJsonAsync("() => ({ t: performance.now(), sent: window.pgvc.localFramesSent, backpressure: window.pgvc.client.counters.framesDroppedBackpressure, encode: window.__pgvcEncode })");
        var encode = c.GetProperty("encode");
        return new SenderCounters(
            c.GetProperty("t").GetDouble(),
            c.GetProperty("sent").GetInt64(),
            encode.GetProperty("done").GetInt64(),
            encode.GetProperty("totalMs").GetDouble(),
            encode.GetProperty("slow").GetInt64(),
            c.GetProperty("backpressure").GetInt64());
    }

    /// <summary>The sender's video counters: frames sent, and its JPEG encodes (count, total time, slower than a frame period).</summary>
    private readonly record struct SenderCounters(double TimeMs, long Sent, long Encodes, double EncodeMs, long SlowEncodes, long Backpressure)
    {
        public SenderCounters Since(SenderCounters before) =>
            new(TimeMs - before.TimeMs, Sent - before.Sent, Encodes - before.Encodes, EncodeMs - before.EncodeMs, SlowEncodes - before.SlowEncodes, Backpressure - before.Backpressure);

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture,
                $"sent {Sent * 1000 / TimeMs:F1} fps ({Encodes} JPEG encodes, {(Encodes == 0 ? 0 : EncodeMs / Encodes):F0} ms on average, {SlowEncodes} longer than a frame period; {Backpressure} frames not sent because the WebSocket was backed up)");
    }

    [Fact]
    public Task EachHearsTheOthersTone() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var problems = new List<string>();
        var aliceHearsBob = CheckToneAsync(Alice, Bob, problems);
        var bobHearsAlice = CheckToneAsync(Bob, Alice, problems);
        await Task.WhenAll(aliceHearsBob, bobHearsAlice);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    });

    private async Task CheckToneAsync(Participant listener, Participant speaker, List<string> problems)
    {
        const double minRms = 0.05;
        var who = $"{listener.Name} hearing {speaker.Name}";
        var tone = speaker.Spec.ToneHz;
        try
        {
            await listener.WaitForAsync(
                "([id, hz, tolerance, minRms]) => { const l = window.pgvc.audioLevel(id); return !!l && l.rms >= minRms && Math.abs(l.dominantHz - hz) <= tolerance; }",
                new object[] { speaker.UserId, tone, MediaChecks.ToneToleranceHz, minRms },
                TimeSpan.FromSeconds(20),
                $"playing {speaker.Name}'s {tone} Hz tone");
        }
        catch (TimeoutException ex)
        {
            var recent = await MediaChecks.SampleAudioAsync(listener, speaker, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250));
            lock (problems)
            {
                problems.Add($"{ex.Message} Last levels: {string.Join("; ", recent)}");
            }

            return;
        }

        // Then it keeps carrying the tone: most looks over 4 s find it.
        var samples = await MediaChecks.SampleAudioAsync(listener, speaker, TimeSpan.FromSeconds(4), TimeSpan.FromMilliseconds(250));
        var good = samples.Count(s => s.Carries(tone, minRms));
        var summary = $"{who}: {good} of {samples.Count} samples carry {tone} Hz ± {MediaChecks.ToneToleranceHz} Hz at rms ≥ {minRms}: {string.Join("; ", samples)}";
        Log(summary);
        if (good < samples.Count * 0.75)
        {
            lock (problems)
            {
                problems.Add(summary);
            }
        }
    }

    [Fact]
    public Task ChatMessagesReachTheOtherSide() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];

        var fromAlice = $"Hi Bob, it's Alice ({tag})";
        await Alice.ByTestId("chat-input").FillAsync(fromAlice);
        await Alice.ByTestId("chat-input").PressAsync("Enter");
        await ExpectChatShownAsync(Bob, fromAlice);
        await ExpectChatShownAsync(Alice, fromAlice);

        var fromBob = $"Hello Alice, Bob here ({tag})";
        await Bob.ByTestId("chat-input").FillAsync(fromBob);
        await Bob.ByTestId("chat-send").ClickAsync();
        await ExpectChatShownAsync(Alice, fromBob);
        await ExpectChatShownAsync(Bob, fromBob);

        await Expect(Alice.ByTestId("chat-input")).ToHaveValueAsync(string.Empty);

        // For docs/screenshots: both windows of a call with video both ways and the chat just exchanged.
        if (Environment.GetEnvironmentVariable("PGVIDEOCHAT_DOCS_SCREENSHOTS") is { Length: > 0 } directory)
        {
            await VideoChatFixture.WaitForVideoAsync(Alice, Bob, TimeSpan.FromSeconds(10));
            await VideoChatFixture.WaitForVideoAsync(Bob, Alice, TimeSpan.FromSeconds(10));
            await Task.Delay(2000);
            await Alice.Page.ScreenshotAsync(new() { Path = Path.Combine(directory, "call-alice.png") });
            await Bob.Page.ScreenshotAsync(new() { Path = Path.Combine(directory, "call-bob.png") });
        }
    });

    /// <summary>The message is shown once in the viewer's chat as delivered (not as a pending message of theirs).</summary>
    internal static async Task ExpectChatShownAsync(Participant viewer, string text)
    {
        var delivered = viewer.ByTestId("chat-messages").GetByTestId("chat-message").Filter(new() { HasText = text });
        await Expect(delivered).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Expect(delivered).ToBeVisibleAsync();
    }

    [Fact]
    public Task CameraOffIsSeenAndHangUpEndsTheCallOnBothSides() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var badge = Bob.ByTestId($"remote-camera-off-{Alice.UserId}");
        await Expect(badge).ToBeHiddenAsync();

        await Alice.ByTestId("toggle-camera").ClickAsync();
        await Expect(Alice.ByTestId("toggle-camera")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(badge).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Bob.WaitForAsync("id => window.pgvc.stats(id).fps === 0", Alice.UserId, TimeSpan.FromSeconds(10), "Alice's video stopping");

        // Back on: the badge goes away and the picture moves again.
        var framesBefore = (await Bob.StatsOfAsync(Alice.UserId)).FramesReceived;
        await Alice.ByTestId("toggle-camera").ClickAsync();
        await Expect(badge).ToBeHiddenAsync(new() { Timeout = 20_000 });
        await Bob.WaitForAsync(
            "([id, n]) => window.pgvc.stats(id).framesReceived >= n",
            new[] { Alice.UserId, framesBefore + 15 },
            TimeSpan.FromSeconds(20),
            "Alice's video coming back");

        await Alice.ByTestId("hangup").ClickAsync();
        await Expect(Alice.ByTestId("call-state")).ToHaveTextAsync("ended", new() { Timeout = 20_000 });
        await Expect(Bob.ByTestId("call-state")).ToHaveTextAsync("ended", new() { Timeout = 20_000 });
        await Expect(Bob.ByTestId($"remote-tile-{Alice.UserId}")).ToHaveCountAsync(0);
        await Expect(Alice.ByTestId($"remote-tile-{Bob.UserId}")).ToHaveCountAsync(0);
        await Expect(Alice.ByTestId("hangup")).ToBeHiddenAsync();
        await Expect(Bob.ByTestId("hangup")).ToBeHiddenAsync();
    });

    [Fact]
    public Task SomeoneOutsideTheCallReceivesNoneOfItsMedia() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var carol = await Fixture.CarolAsync();
        await carol.OpenAsync(Fixture.WebClientUrl);
        await carol.SignInAsync();
        await VideoChatFixture.ExpectOnlineAsync(carol, Alice);
        await VideoChatFixture.ExpectOnlineAsync(carol, Bob);
        Log($"Carol #{carol.UserId} signed in and sees Alice and Bob online");

        // While Carol is connected, Alice and Bob exchange a few seconds of video.
        var bobFrom = (await Bob.StatsOfAsync(Alice.UserId)).FramesReceived;
        var aliceFrom = (await Alice.StatsOfAsync(Bob.UserId)).FramesReceived;
        await Task.WhenAll(
            Bob.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Alice.UserId, bobFrom + 45 }, TimeSpan.FromSeconds(20), "45 more frames of Alice"),
            Alice.WaitForAsync("([id, n]) => window.pgvc.stats(id).framesReceived >= n", new[] { Bob.UserId, aliceFrom + 45 }, TimeSpan.FromSeconds(20), "45 more frames of Bob"));
        Log("Alice and Bob exchanged 45 more frames each while Carol was connected");

        await Expect(carol.ByTestId("connection-status")).ToHaveTextAsync("connected");
        await Expect(carol.ByTestId("call-panel")).ToBeHiddenAsync();
        await Expect(carol.ByTestId("incoming-call")).ToBeHiddenAsync();
        await Expect(carol.Page.Locator("[data-testid^='remote-tile-']")).ToHaveCountAsync(0);
        await Expect(carol.Page.Locator("[data-testid^='remote-video-']")).ToHaveCountAsync(0);
        foreach (var other in new[] { Alice, Bob })
        {
            var stats = await carol.StatsOfAsync(other.UserId);
            Assert.True(stats.FramesReceived == 0 && stats.AudioFramesReceived == 0,
                $"Carol's client counted {stats.FramesReceived} video and {stats.AudioFramesReceived} audio frames of {other.Name}.");
            Assert.Null(await carol.EvalAsync<JsonElement?>("id => window.pgvc.audioLevel(id)", other.UserId));
        }

        // On the wire: the relay sent Carol no media frame at all (while Bob's socket carried Alice's).
        var carolWire = await carol.EvalJsonAsync("() => window.__pgvcWire");
        var bobWire = await Bob.EvalJsonAsync("() => window.__pgvcWire");
        Assert.True(carolWire.GetProperty("sockets").GetInt32() >= 1, $"Carol's page opened no WebSocket: {carolWire}");
        Assert.True(carolWire.GetProperty("binaryIn").GetInt64() == 0, $"The relay sent Carol media frames: {carolWire}");
        Assert.True(
            bobWire.GetProperty("bySender").TryGetProperty(Alice.UserId.ToString(CultureInfo.InvariantCulture), out var fromAlice) && fromAlice.GetInt64() > 0,
            $"Bob's socket counted no frame of Alice, so the wire counter proves nothing: {bobWire}");
        await carol.CloseAsync();
    });
}
