using System.Globalization;
using System.Text.Json;
using PgVideoChat.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace PgVideoChat.E2ETests;

/// <summary>
/// Issue 9: a group call spread over three relays behind the front door, one person per relay, survives losing one
/// relay. Placement uses the front door's affinity cookie, as a returning browser would carry it; where each page
/// really is comes from the relay's hello, never from what the test asked for.
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed class ThreeRelayCallTests(ThreeRelaysVideoChatFixture fixture, ITestOutputHelper output)
    : BrowserTest(fixture, output), IClassFixture<ThreeRelaysVideoChatFixture>
{
    /// <summary>From the kill until Bob is back and media flows again between every pair.</summary>
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest Alice and Carol may go without a frame of each other while Bob's relay dies: their relays are
    /// untouched, so anything longer than a hiccup of a busy 2-core machine is a disturbance.
    /// </summary>
    private static readonly TimeSpan AllowedGapForOthers = TimeSpan.FromSeconds(5);

    private const string RelayIdOfPage = "() => window.pgvc.client?.hello?.relayId ?? null";

    /// <summary>
    /// A timeline kept by the page itself, in wall-clock milliseconds (the test's clock too): its connection's states
    /// and relays, and for each peer when its received-frame count changed. Page-side, so the figures do not depend on
    /// when the test gets round to looking.
    /// </summary>
    private const string TimelineScript = """
        (peers) => {
          const p = window.pgvc;
          const m = { states: [], peers: {}, reconnects: p.client.counters.reconnects };
          const note = () => {
            const state = p.connectionState, relay = p.client?.hello?.relayId ?? null;
            const last = m.states[m.states.length - 1];
            if (!last || last.state !== state || last.relay !== relay) m.states.push({ at: Date.now(), state, relay });
          };
          const sample = () => {
            for (const id of peers) {
              const f = m.peers[id];
              const n = p.stats(id).framesReceived;
              if (n !== f[f.length - 1][1]) f.push([Date.now(), n]);
            }
          };
          for (const id of peers) m.peers[id] = [[Date.now(), p.stats(id).framesReceived]];
          note();
          p.client.on('state', note);
          p.client.on('hello', note);
          p.client.on('media', () => queueMicrotask(sample));
          setInterval(() => { note(); sample(); }, 100);
          window.__pgvcTimeline = m;
        }
        """;

    private const string TimelineReportScript = """
        () => {
          const m = window.__pgvcTimeline;
          return { now: Date.now(), states: m.states, peers: m.peers, reconnects: window.pgvc.client.counters.reconnects - m.reconnects };
        }
        """;

    [Fact]
    public Task GroupCallOverThreeRelaysSurvivesKillingBobsRelay() => RunAsync(async () =>
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var carol = await Fixture.CarolAsync();
        var people = new[] { Alice, Bob, carol };
        string[] relayOf = ["relay-0", "relay-1", "relay-2"];

        // 1. Each person on their own relay, through the front door.
        var frontDoor = await ThreeRelays.PageRelayUrlAsync(cts.Token);
        var cookies = await ThreeRelays.LearnAffinityCookiesAsync(frontDoor, relayOf.Length, cts.Token);
        Assert.True(relayOf.All(cookies.ContainsKey), $"The front door sent probes only to {string.Join(", ", cookies.Keys)}.");
        Log($"the pages' relay URL (from the web client's config.json) is {frontDoor}");
        await Task.WhenAll(people.Select((p, i) => p.OpenAsync(Fixture.WebClientUrl, [ThreeRelaysVideoChatFixture.BrowserCookie(frontDoor, cookies[relayOf[i]])])));
        foreach (var person in people)
        {
            await person.SignInAsync();
        }

        for (var i = 0; i < people.Length; i++)
        {
            var relay = await people[i].EvalAsync<string?>(RelayIdOfPage);
            Log($"{people[i].Name} #{people[i].UserId} is connected to {relay} (its hello says)");
            Assert.True(relay == relayOf[i], $"{people[i].Name}'s page is on {relay ?? "no relay"}, not {relayOf[i]}.");
        }

        foreach (var viewer in people)
        {
            foreach (var other in people.Where(o => o != viewer))
            {
                await VideoChatFixture.ExpectOnlineAsync(viewer, other);
            }
        }

        // 2. A group call: Alice calls Bob, then adds Carol; everyone sees and hears everyone.
        await Fixture.CallAsync(Alice, Bob);
        await Alice.ByTestId($"call-user-{carol.UserId}").ClickAsync();
        await Expect(carol.ByTestId("incoming-call")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await carol.ByTestId("incoming-accept").ClickAsync();
        foreach (var person in people)
        {
            await Expect(person.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = 30_000 });
        }

        var callId = await ExpectEveryoneJoinedAsync(people);
        Log($"group call {callId}: all three joined");

        var pairs = people.SelectMany(v => people.Where(s => s != v).Select(s => (Viewer: v, Sender: s))).ToArray();
        await Task.WhenAll(pairs.Select(p => VideoChatFixture.WaitForVideoAsync(p.Viewer, p.Sender, TimeSpan.FromSeconds(45))));
        await Task.WhenAll(pairs.Select(async p => await WaitForMoreFramesAsync(p.Viewer, p.Sender, await p.Viewer.StatsOfAsync(p.Sender.UserId), 15, TimeSpan.FromSeconds(30))));
        Log("every person receives moving video of both others");
        await Task.WhenAll(pairs.Select(p => WaitForToneAsync(p.Viewer, p.Sender, TimeSpan.FromSeconds(30))));
        Log("every person hears both others' tones");

        // 3. Bob's relay dies (SIGKILL): the process that said hello to Bob, found by its instance id.
        var bobsRelay = relayOf[1];
        var resource = fixture.RelayResourceOf(bobsRelay);
        var pid = Fixture.App.GetProcessId(resource) ?? throw new InvalidOperationException($"{resource} has no process.");
        const string reconnects = "() => window.pgvc.client.counters.reconnects";
        var bobReconnects = await Bob.EvalAsync<int>(reconnects);
        foreach (var person in people)
        {
            await person.EvalAsync<JsonElement?>(TimelineScript, people.Where(o => o != person).Select(o => o.UserId).ToArray());
        }

        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Fixture.App.KillResourceAsync(resource);
        Assert.False(ProcFs.IsAlive(pid), $"{resource} (pid {pid}) still runs after SIGKILL.");
        Log($"killed {resource} (pid {pid}, Bob's relay {bobsRelay}) with SIGKILL");
        var deadline = DateTime.UtcNow + RecoveryBudget;

        // Bob's client reconnects by itself, through the front door, to another relay.
        await Bob.WaitForAsync(
            "([n, dead]) => window.pgvc.client.counters.reconnects > n && window.pgvc.connectionState === 'connected' && window.pgvc.client.hello?.relayId !== dead",
            new object[] { bobReconnects, bobsRelay },
            Remaining(deadline),
            $"reconnecting to a relay other than {bobsRelay}");
        var bobNow = await Bob.EvalAsync<string?>(RelayIdOfPage);
        Log($"Bob reconnected to {bobNow}");
        Assert.True(bobNow is not null && bobNow != bobsRelay && relayOf.Contains(bobNow), $"Bob is on {bobNow ?? "no relay"} after {bobsRelay} died.");

        // Media flows again between every pair (15 new frames and new audio), and the call goes on for all three.
        var flowing = Task.WhenAll(pairs.Select(async p =>
        {
            var from = await p.Viewer.StatsOfAsync(p.Sender.UserId);
            await WaitForMoreFramesAsync(p.Viewer, p.Sender, from, 15, Remaining(deadline));
            await p.Viewer.WaitForAsync(
                "([id, n]) => window.pgvc.stats(id).audioFramesReceived > n",
                new object[] { p.Sender.UserId, from.AudioFramesReceived },
                Remaining(deadline),
                $"new audio of {p.Sender.Name}");
        }));
        foreach (var person in people)
        {
            await Expect(person.ByTestId("call-state")).ToHaveTextAsync("active", new() { Timeout = (float)Remaining(deadline).TotalMilliseconds });
        }

        Assert.Equal(callId, await ExpectEveryoneJoinedAsync(people));
        await flowing;
        var recovered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - killedAt;

        // The figures, from the pages' own timelines.
        var timelines = new Dictionary<Participant, JsonElement>();
        foreach (var person in people)
        {
            timelines[person] = await person.EvalJsonAsync(TimelineReportScript);
            Fixture.Log($"{person.Name}'s connection after the kill: {timelines[person].GetProperty("states")}");
        }

        var bobBackAt = timelines[Bob].GetProperty("states").EnumerateArray()
            .Where(e => e.GetProperty("at").GetInt64() >= killedAt && e.GetProperty("state").GetString() == "connected" && e.GetProperty("relay").GetString() == bobNow)
            .Select(e => e.GetProperty("at").GetInt64()).First();
        var problems = new List<string>();
        var figures = new List<string>();
        long slowestResume = 0;
        foreach (var (viewer, sender) in pairs)
        {
            var frames = timelines[viewer].GetProperty("peers").GetProperty(sender.UserId.ToString(CultureInfo.InvariantCulture))
                .EnumerateArray().Select(e => (At: e[0].GetInt64(), Count: e[1].GetInt64())).ToList();
            var who = $"{viewer.Name} ← {sender.Name}";
            if (viewer == Bob || sender == Bob)
            {
                var countAtReconnect = frames.Last(f => f.At <= bobBackAt).Count;
                var first = frames.First(f => f.At > bobBackAt);
                var fifteen = frames.First(f => f.Count >= countAtReconnect + 15);
                slowestResume = Math.Max(slowestResume, first.At - killedAt);
                figures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{who}: first frame after the reconnect {(first.At - killedAt) / 1000.0:F1} s, 15 frames {(fifteen.At - killedAt) / 1000.0:F1} s after the kill"));
            }
            else
            {
                // Alice and Carol: how long the longest wait for a frame was, from the kill to the end.
                var gap = frames.Zip(frames.Skip(1), (a, b) => b.At - a.At).Append(timelines[viewer].GetProperty("now").GetInt64() - frames[^1].At).Max();
                figures.Add(string.Create(CultureInfo.InvariantCulture, $"{who}: longest gap {gap / 1000.0:F1} s"));
                if (gap > AllowedGapForOthers.TotalMilliseconds)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{who}: {gap / 1000.0:F1} s without a frame while Bob's relay died (at most {AllowedGapForOthers.TotalSeconds:F0} s allowed): {string.Join(' ', frames)}"));
                }
            }
        }

        // Alice and Carol stayed where they were: same relay, never reconnected.
        foreach (var (person, relay) in new[] { (Alice, relayOf[0]), (carol, relayOf[2]) })
        {
            var t = timelines[person];
            var states = t.GetProperty("states").EnumerateArray().Select(e => $"{e.GetProperty("state").GetString()}@{e.GetProperty("relay").GetString()}").ToList();
            if (t.GetProperty("reconnects").GetInt32() != 0 || states.Any(st => st != $"connected@{relay}"))
            {
                problems.Add($"{person.Name} was disturbed: {t.GetProperty("reconnects").GetInt32()} reconnect(s), connection {string.Join(" → ", states)} (was connected@{relay}).");
            }
        }

        foreach (var line in figures)
        {
            Log(line);
        }

        Log(string.Create(CultureInfo.InvariantCulture,
            $"FIGURES: Bob reconnected to {bobNow} {(bobBackAt - killedAt) / 1000.0:F1} s after the kill; his media resumed (first frame, slowest pair) " +
            $"{slowestResume / 1000.0:F1} s after the kill; every pair flowing again (15 frames and new audio, as the test saw it) {recovered / 1000.0:F1} s after the kill"));
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    });

    private ThreeRelaysVideoChatFixture ThreeRelays => (ThreeRelaysVideoChatFixture)Fixture;

    /// <summary>Every page shows the same call with all three joined; returns its id.</summary>
    private static async Task<long> ExpectEveryoneJoinedAsync(Participant[] people)
    {
        var ids = people.Select(p => p.UserId).ToArray();
        long? callId = null;
        foreach (var person in people)
        {
            await person.WaitForAsync(
                "ids => { const c = window.pgvc.currentCall; return !!c && c.state === 'active' && ids.every((id) => c.participants.some((x) => x.userId === id && x.state === 'joined')); }",
                ids,
                TimeSpan.FromSeconds(30),
                "all three joined in the call");
            var id = await person.EvalAsync<long>("() => window.pgvc.currentCall.callId");
            Assert.True(callId is null || callId == id, $"{person.Name} is in call {id}, the others in {callId}.");
            callId = id;
        }

        return callId!.Value;
    }

    private static Task WaitForMoreFramesAsync(Participant viewer, Participant sender, ReceiveStats from, int more, TimeSpan timeout) =>
        viewer.WaitForAsync(
            "([id, n]) => window.pgvc.stats(id).framesReceived >= n",
            new[] { sender.UserId, from.FramesReceived + more },
            timeout,
            $"{more} new frame(s) of {sender.Name}");

    private static Task WaitForToneAsync(Participant listener, Participant speaker, TimeSpan timeout) =>
        listener.WaitForAsync(
            "([id, hz, tolerance]) => { const l = window.pgvc.audioLevel(id); return !!l && l.rms >= 0.05 && Math.abs(l.dominantHz - hz) <= tolerance; }",
            new object[] { speaker.UserId, speaker.Spec.ToneHz, MediaChecks.ToneToleranceHz },
            timeout,
            $"playing {speaker.Name}'s {speaker.Spec.ToneHz} Hz tone");

    private static TimeSpan Remaining(DateTime deadline) =>
        TimeSpan.FromMilliseconds(Math.Max(1_000, (deadline - DateTime.UtcNow).TotalMilliseconds));
}
