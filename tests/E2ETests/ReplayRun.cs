using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PgVideoChat.E2ETests;

/// <summary>
/// What the test saw and heard of one replay played from start to end (looks every 100 ms in the page), and what is
/// wrong with it: the running time off the recording's length by more than 5 %, a side's colour or tone missing in
/// more than a fifth of the looks, or video and audio further apart than <see cref="MaxSkewMs"/>.
/// </summary>
internal sealed record ReplayRun(
    double RunningMs,
    double FromMs,
    int Looks,
    int BufferingLooks,
    double AliceRedShare,
    double BobBlueShare,
    double AliceToneShare,
    double BobToneShare,
    double? SkewMs,
    double MaxAbsSkewMs,
    int SkewSamples,
    IReadOnlyList<string> Problems)
{
    /// <summary>
    /// The player draws each picture by the audio clock, so the skew is how late a picture is on the sound: one
    /// animation frame (17 ms) and a decode, more when the machine stalls. Lip sync is noticed from ~45 ms of sound
    /// ahead and ~125 ms of sound behind (ITU-R BT.1359); the bound allows one stall of a busy CI machine.
    /// </summary>
    public const double MaxSkewMs = 150;

    private const double MinShare = 0.8;
    private const double MinRms = 0.05;

    public static ReplayRun From(JsonElement result, long durationMs, long aliceId, long bobId)
    {
        var looks = result.GetProperty("looks").EnumerateArray().ToList();
        var final = result.GetProperty("final");
        var problems = new List<string>();
        var phase = final.GetProperty("phase").GetString();
        if (phase != "ended")
        {
            problems.Add($"the replay did not end: {final}; last looks {string.Join("; ", looks.TakeLast(5))}");
        }

        // The running time: from the first look past the start (the preroll is over) to the first look at the end.
        var start = looks.FirstOrDefault(static l => l.GetProperty("phase").GetString() == "playing" && Number(l, "pos") > 0);
        var end = looks.FirstOrDefault(static l => l.GetProperty("phase").GetString() == "ended");
        double runningMs = 0, fromMs = 0;
        if (start.ValueKind == JsonValueKind.Object && end.ValueKind == JsonValueKind.Object)
        {
            fromMs = Number(start, "pos");
            runningMs = Number(end, "t") - Number(start, "t");
            var expected = durationMs - fromMs;
            if (runningMs < expected * 0.95 || runningMs > (expected * 1.05) + 100)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"the replay ran {runningMs:F0} ms for {expected:F0} ms of recording (±5 %, one look of 100 ms)"));
            }
        }
        else
        {
            problems.Add("no look saw the replay both playing and ended");
        }

        // Colours and tones in the middle: a second away from either end.
        var middle = looks.Where(l => l.GetProperty("phase").GetString() == "playing" && Number(l, "pos") is var p && p >= 1000 && p <= durationMs - 1000).ToList();
        if (middle.Count < 50)
        {
            problems.Add($"only {middle.Count} looks in the middle of a {durationMs}-ms replay");
        }

        double Share(Func<JsonElement, bool> test) => middle.Count == 0 ? 0 : middle.Count(test) / (double)middle.Count;
        var aliceRed = Share(l => ColourOf(l.GetProperty("alicePixel")) == FakeMediaSpec.Alice.Colour);
        var bobBlue = Share(l => ColourOf(l.GetProperty("bobPixel")) == FakeMediaSpec.Bob.Colour);
        var aliceTone = Share(l => Carries(l.GetProperty("aliceAudio"), FakeMediaSpec.Alice.ToneHz));
        var bobTone = Share(l => Carries(l.GetProperty("bobAudio"), FakeMediaSpec.Bob.ToneHz));
        foreach (var (what, share) in new[] { ("Alice's red", aliceRed), ("Bob's blue", bobBlue), ("Alice's 440 Hz", aliceTone), ("Bob's 880 Hz", bobTone) })
        {
            if (share < MinShare)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{what} is in {share:P0} of the replay's looks (at least {MinShare:P0}); e.g. {string.Join("; ", middle.Take(3))}"));
            }
        }

        var senders = final.GetProperty("senders");
        foreach (var (who, id) in new[] { ("Alice", aliceId), ("Bob", bobId) })
        {
            var stats = senders.GetProperty(id.ToString(CultureInfo.InvariantCulture));
            var pictures = stats.GetProperty("videoFrames").GetInt32();
            if (pictures < durationMs / 1000.0 * 10)
            {
                problems.Add($"{who}'s replay drew {pictures} pictures in {durationMs} ms: {stats}");
            }

            if (stats.GetProperty("audioFrames").GetInt32() == 0)
            {
                problems.Add($"{who}'s replay played no audio: {stats}");
            }
        }

        double? skew = final.GetProperty("skewMs").ValueKind == JsonValueKind.Number ? final.GetProperty("skewMs").GetDouble() : null;
        var maxSkew = final.GetProperty("maxAbsSkewMs").GetDouble();
        var skewSamples = final.GetProperty("skewSamples").GetInt32();
        if (skewSamples < 100 || maxSkew > MaxSkewMs)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"A/V skew: max |{maxSkew:F1}| ms over {skewSamples} pictures (at most {MaxSkewMs} ms)"));
        }

        var buffering = looks.Count(static l => l.GetProperty("phase").GetString() == "buffering");
        return new ReplayRun(runningMs, fromMs, looks.Count, buffering, aliceRed, bobBlue, aliceTone, bobTone, skew, maxSkew, skewSamples, problems);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"replay: ran {RunningMs:F0} ms from {FromMs:F0} ms, {Looks} looks ({BufferingLooks} buffering); ");
        text.Append(CultureInfo.InvariantCulture, $"red {AliceRedShare:P0}, blue {BobBlueShare:P0}, 440 Hz {AliceToneShare:P0}, 880 Hz {BobToneShare:P0}; ");
        text.Append(CultureInfo.InvariantCulture, $"A/V skew last {SkewMs:F1} ms, max |{MaxAbsSkewMs:F1}| ms over {SkewSamples} pictures");
        return text.ToString();
    }

    private static double Number(JsonElement look, string name) =>
        look.GetProperty(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : -1;

    private static string ColourOf(JsonElement pixel)
    {
        if (pixel.ValueKind != JsonValueKind.Array)
        {
            return "-";
        }

        var rgb = pixel.EnumerateArray().Select(static v => v.GetInt32()).ToArray();
        return FakeMedia.ColourName(rgb[0], rgb[1], rgb[2]);
    }

    private static bool Carries(JsonElement level, int toneHz) =>
        level.ValueKind == JsonValueKind.Object
        && level.GetProperty("rms").GetDouble() >= MinRms
        && Math.Abs(level.GetProperty("dominantHz").GetDouble() - toneHz) <= MediaChecks.ToneToleranceHz;
}
