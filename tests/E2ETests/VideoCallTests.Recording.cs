using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PgVideoChat.TestSupport.Media;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// Record and replay (issue 23): Alice records ten seconds of the call, Bob stops it, Alice replays it on her recordings
/// page and exports it. Both sides' colours (red / blue) and tones (440 / 880 Hz) must be in the replay and in the file,
/// and both must last the recording's length within 5 %.
/// </summary>
public sealed partial class VideoCallTests
{
    private static readonly TimeSpan RecordFor = TimeSpan.FromSeconds(10);

    [Fact]
    public Task EitherCanRecordTheCallBothSeeWhoRecordsAndTheReplayAndTheExportCarryBothSides() => RunAsync(async () =>
    {
        await Fixture.EnsureAliceAndBobInCallAsync();
        var (recordingId, durationMs) = await RecordAsync();

        var replay = await ReplayAsync(recordingId, durationMs);
        Output.WriteLine(replay.ToString());
        Assert.True(replay.Problems.Count == 0, string.Join(Environment.NewLine, replay.Problems));

        await CheckPauseAndSeekAsync(recordingId, durationMs);

        var file = Convert.FromBase64String(await Alice.EvalAsync<string>(ExportScript, recordingId));
        CheckExport(AviFile.Parse(file), durationMs);
    });

    /// <summary>Alice starts, Bob stops after <see cref="RecordFor"/>; both see the banner naming who records.</summary>
    private async Task<(long RecordingId, long DurationMs)> RecordAsync()
    {
        await Expect(Alice.ByTestId("toggle-recording")).ToHaveTextAsync("Record");
        await Alice.ByTestId("toggle-recording").ClickAsync();
        await Expect(Alice.ByTestId("recording-banner")).ToHaveTextAsync("\u25CF Recording \u2014 started by you", new() { Timeout = 15_000 });
        var recorded = Stopwatch.StartNew(); // from the moment the start is back through the slot
        await Expect(Bob.ByTestId("recording-banner")).ToHaveTextAsync("\u25CF Recording \u2014 started by Alice", new() { Timeout = 15_000 });
        await Expect(Alice.ByTestId("toggle-recording")).ToHaveAttributeAsync("aria-pressed", "true");
        var recordingId = await Bob.EvalAsync<long>("() => window.pgvc.recordingState().recordingId");
        Assert.True(recordingId > 0);
        Assert.Equal(recordingId, await Alice.EvalAsync<long>("() => window.pgvc.recordingState().recordingId"));

        // Anyone in the call may withdraw consent: Bob stops it, and the banner goes on both sides.
        await Expect(Bob.ByTestId("toggle-recording")).ToHaveTextAsync("Stop recording");
        var left = RecordFor - recorded.Elapsed;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        await Bob.ByTestId("toggle-recording").ClickAsync();
        await Expect(Alice.ByTestId("recording-banner")).ToBeHiddenAsync(new() { Timeout = 15_000 });
        await Expect(Bob.ByTestId("recording-banner")).ToBeHiddenAsync(new() { Timeout = 15_000 });
        await Expect(Alice.ByTestId("toggle-recording")).ToHaveTextAsync("Record");

        // The recording's own length (the relay's start and stop times) is the yardstick of the replay and the file.
        var summary = await Alice.EvalJsonAsync(SummaryScript, recordingId);
        var durationMs = summary.GetProperty("durationMs").GetInt64();
        Output.WriteLine($"recording {recordingId}: {durationMs} ms, {summary}");
        Assert.InRange(durationMs, RecordFor.TotalMilliseconds * 0.95, RecordFor.TotalMilliseconds * 1.05);
        Assert.False(summary.GetProperty("active").GetBoolean());
        // Stopped a moment ago, most of it is still in the live partitions: its size counts them.
        Assert.True(summary.GetProperty("bytes").GetInt64() > 100_000, $"a 10-s recording of {summary.GetProperty("bytes")} bytes");
        return (recordingId, durationMs);
    }

    /// <summary>Alice's recordings page lists it; Play runs it from start to end while the test looks and listens.</summary>
    private async Task<ReplayRun> ReplayAsync(long recordingId, long durationMs)
    {
        await Alice.ByTestId("open-recordings").ClickAsync();
        await Expect(Alice.ByTestId("recordings-view")).ToBeVisibleAsync();
        var row = Alice.Page.Locator($"[data-testid=recording-row][data-recording-id=\"{recordingId}\"]");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await Expect(row.GetByTestId("recording-participants")).ToContainTextAsync("Bob");
        await Expect(row.GetByTestId("recording-started-by")).ToContainTextAsync("you");
        await row.GetByTestId("recording-play").ClickAsync();
        await Expect(Alice.ByTestId("replay-player")).ToBeVisibleAsync();

        var result = await Alice.EvalJsonAsync(PlayThroughScript, new
        {
            alice = Alice.UserId,
            bob = Bob.UserId,
            spot = new[] { FakeMedia.ColourSpot.X, FakeMedia.ColourSpot.Y },
            timeoutMs = (durationMs * 3) + 30_000,
        });
        return ReplayRun.From(result, durationMs, Alice.UserId, Bob.UserId);
    }

    /// <summary>Pause holds the position; a seek moves it there and playing on from it reaches the end in the time left.</summary>
    private async Task CheckPauseAndSeekAsync(long recordingId, long durationMs)
    {
        Assert.Equal(recordingId, await Alice.EvalAsync<long>("() => window.pgvc.replayState().recordingId"));
        await Alice.ByTestId("replay-toggle").ClickAsync(); // Play again, from the start
        await Alice.WaitForAsync("() => window.pgvc.replayState().phase === 'playing' && window.pgvc.replayState().positionMs > 1000", null, TimeSpan.FromSeconds(15), "the replay playing again");

        await Alice.ByTestId("replay-toggle").ClickAsync(); // Pause
        await Expect(Alice.ByTestId("replay-player")).ToHaveAttributeAsync("data-state", "paused");
        var paused = await Alice.EvalAsync<long>("() => window.pgvc.replayState().positionMs");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.InRange(await Alice.EvalAsync<long>("() => window.pgvc.replayState().positionMs"), paused - 50, paused + 50);

        var target = durationMs - 3000;
        await Alice.Page.EvalOnSelectorAsync("[data-testid=replay-seek]", "(el, ms) => { el.value = String(ms); el.dispatchEvent(new Event('change')); }", target);
        await Alice.WaitForAsync("(ms) => Math.abs(window.pgvc.replayState().positionMs - ms) <= 100", target, TimeSpan.FromSeconds(5), $"the paused replay at {target} ms after the seek");
        await Expect(Alice.ByTestId("replay-player")).ToHaveAttributeAsync("data-state", "paused");

        var resumed = Stopwatch.StartNew();
        await Alice.ByTestId("replay-toggle").ClickAsync();
        await Alice.WaitForAsync("() => window.pgvc.replayState().phase === 'ended'", null, TimeSpan.FromSeconds(20), "the replay ending after the seek");
        // 3 s left, plus the stream's preroll after a seek.
        Assert.InRange(resumed.Elapsed.TotalSeconds, 2.85, 5);
        await Alice.ByTestId("recordings-close").ClickAsync();
        await Expect(Alice.ByTestId("recordings-view")).ToBeHiddenAsync();
    }

    private void CheckExport(AviFile avi, long durationMs)
    {
        Assert.Equal(["vids", "vids", "auds"], avi.Streams.Select(static s => s.Type));
        var seconds = durationMs / 1000.0;
        Assert.InRange(avi.TotalFrames / 15.0, seconds * 0.95, seconds * 1.05);

        // Each side's colour in the middle of its stream: the participants' order, Alice (red) first.
        string[] expected = ["red", "blue"];
        for (var stream = 0; stream < 2; stream++)
        {
            var frames = avi.ChunksOf(stream).Where(static c => c.Payload.Length > 0).ToList();
            Assert.True(frames.Count >= 10 * seconds, $"stream {stream} has {frames.Count} pictures in {seconds:F1} s");
            foreach (var frame in new[] { frames[frames.Count / 4], frames[frames.Count / 2], frames[frames.Count * 3 / 4] })
            {
                var (r, g, b) = JpegPixels.PixelAt(frame.Payload.ToArray(), FakeMedia.ColourSpot.X, FakeMedia.ColourSpot.Y);
                Assert.Equal(expected[stream], FakeMedia.ColourName(r, g, b));
            }
        }

        // The mixed audio: the recording's length, and both tones in every second of it after the first.
        var audio = avi.Streams[2];
        var mix = Tone.Samples(avi.DataOf(2));
        Assert.InRange(mix.Length / (double)audio.SampleRate, seconds * 0.95, seconds * 1.05);
        var problems = new List<string>();
        for (var second = 1; second + 1 <= seconds; second++)
        {
            var window = mix.AsSpan(second * audio.SampleRate, audio.SampleRate);
            var alice = Tone.Goertzel(window, FakeMediaSpec.Alice.ToneHz, audio.SampleRate);
            var bob = Tone.Goertzel(window, FakeMediaSpec.Bob.ToneHz, audio.SampleRate);
            var off = Math.Max(Tone.Goertzel(window, 600, audio.SampleRate), Tone.Goertzel(window, 1300, audio.SampleRate));
            var line = string.Create(CultureInfo.InvariantCulture, $"second {second}: 440 Hz {alice:F0}, 880 Hz {bob:F0}, off-tone {off:F0}");
            Output.WriteLine(line);
            if (alice < 10 * off || bob < 10 * off || alice < 500 || bob < 500)
            {
                problems.Add(line);
            }
        }

        Assert.True(problems.Count == 0, $"the export's mix lacks a tone ({audio.SampleRate} Hz): {string.Join("; ", problems)}");
    }

    private const string SummaryScript = """
        async (id) => {
          const session = JSON.parse(sessionStorage.getItem('pgvc.session'));
          const res = await fetch(`${window.pgvc.client.relayUrl}/api/recordings/${id}`, { headers: { Authorization: `Bearer ${session.token}` } });
          if (!res.ok) throw new Error(`recording ${id}: HTTP ${res.status} ${await res.text()}`);
          return res.json();
        }
        """;

    // Runs in the page so that the wall clock and the player's state are read side by side, every 100 ms.
    private const string PlayThroughScript = """
        async ({ alice, bob, spot, timeoutMs }) => {
          const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
          const t0 = performance.now();
          const look = () => {
            const s = window.pgvc.replayState();
            return {
              t: performance.now() - t0, phase: s?.phase ?? null, pos: s?.positionMs ?? null,
              alicePixel: window.pgvc.replayPixel(alice, spot[0], spot[1]), bobPixel: window.pgvc.replayPixel(bob, spot[0], spot[1]),
              aliceAudio: window.pgvc.replayAudioLevel(alice), bobAudio: window.pgvc.replayAudioLevel(bob),
            };
          };
          const looks = [];
          for (;;) {
            const l = look();
            looks.push(l);
            if (l.phase === 'ended' || l.phase === 'failed' || l.t > timeoutMs) break;
            await sleep(100);
          }
          return { looks, final: window.pgvc.replayState() };
        }
        """;

    private const string ExportScript = """
        async (id) => {
          const session = JSON.parse(sessionStorage.getItem('pgvc.session'));
          const relay = window.pgvc.client.relayUrl;
          const link = await fetch(`${relay}/api/recordings/${id}/export`, { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } });
          if (!link.ok) throw new Error(`export link: HTTP ${link.status} ${await link.text()}`);
          const { url } = await link.json();
          const file = await fetch(`${relay}${url}`);
          if (!file.ok) throw new Error(`export: HTTP ${file.status} ${await file.text()}`);
          const bytes = new Uint8Array(await file.arrayBuffer());
          let binary = '';
          for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(binary);
        }
        """;
}
