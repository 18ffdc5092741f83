using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PgVideoChat.E2ETests;

/// <summary>One look at a remote participant's video tile and receive statistics.</summary>
public sealed record VideoSample(double TimeMs, double Fps, long FramesReceived, string SpotColour, int? SquareAt, string Path)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"t={TimeMs / 1000:F1}s fps={Fps} frames={FramesReceived} spot={SpotColour} square@{(SquareAt is null ? "-" : SquareAt.ToString())} path={Path}");
}

/// <summary>One look at what is played back of a remote participant.</summary>
public sealed record AudioSample(double TimeMs, double? Rms, double? DominantHz)
{
    public bool Carries(int toneHz, double minRms) =>
        Rms is { } rms && rms >= minRms && DominantHz is { } hz && Math.Abs(hz - toneHz) <= MediaChecks.ToneToleranceHz;

    public override string ToString() =>
        Rms is null
            ? string.Create(CultureInfo.InvariantCulture, $"t={TimeMs / 1000:F1}s no playback")
            : string.Create(CultureInfo.InvariantCulture, $"t={TimeMs / 1000:F1}s rms={Rms:F3} {DominantHz:F0} Hz");
}

/// <summary>Samples what a participant sees and hears of another, in the page, over a period.</summary>
public static class MediaChecks
{
    public const double ToneToleranceHz = 50;

    private const string SampleVideoScript = """
        async ({ peer, seconds, intervalMs, spot, path }) => {
          const samples = [];
          const t0 = performance.now();
          for (;;) {
            const t = performance.now() - t0;
            const s = window.pgvc.stats(peer);
            samples.push({
              t, fps: s.fps, framesReceived: s.framesReceived,
              spot: window.pgvc.pixel(peer, spot[0], spot[1]),
              path: path.map(([x, y]) => window.pgvc.pixel(peer, x, y)),
            });
            if (t >= seconds * 1000) break;
            await new Promise((r) => setTimeout(r, intervalMs));
          }
          return samples;
        }
        """;

    private const string SampleAudioScript = """
        async ({ peer, seconds, intervalMs }) => {
          const samples = [];
          const t0 = performance.now();
          for (;;) {
            const t = performance.now() - t0;
            const l = window.pgvc.audioLevel(peer);
            samples.push({ t, rms: l ? l.rms : null, hz: l ? l.dominantHz : null });
            if (t >= seconds * 1000) break;
            await new Promise((r) => setTimeout(r, intervalMs));
          }
          return samples;
        }
        """;

    public static async Task<IReadOnlyList<VideoSample>> SampleVideoAsync(Participant viewer, Participant sender, TimeSpan duration, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        ArgumentNullException.ThrowIfNull(sender);
        var result = await viewer.EvalJsonAsync(SampleVideoScript, new
        {
            peer = sender.UserId,
            seconds = duration.TotalSeconds,
            intervalMs = interval.TotalMilliseconds,
            spot = new[] { FakeMedia.ColourSpot.X, FakeMedia.ColourSpot.Y },
            path = FakeMedia.SquarePath.Select(p => new[] { p.X, p.Y }).ToArray(),
        });
        var samples = new List<VideoSample>();
        foreach (var s in result.EnumerateArray())
        {
            var pathColours = s.GetProperty("path").EnumerateArray().Select(Colour).ToList();
            var square = pathColours.IndexOf("white");
            var pathText = new StringBuilder();
            foreach (var c in pathColours)
            {
                pathText.Append(c is "white" ? 'W' : c is "other" ? '?' : c is "-" ? '-' : char.ToUpperInvariant(c[0]));
            }

            samples.Add(new VideoSample(
                s.GetProperty("t").GetDouble(),
                s.GetProperty("fps").GetDouble(),
                s.GetProperty("framesReceived").GetInt64(),
                Colour(s.GetProperty("spot")),
                square < 0 ? null : square,
                pathText.ToString()));
        }

        return samples;
    }

    public static async Task<IReadOnlyList<AudioSample>> SampleAudioAsync(Participant listener, Participant speaker, TimeSpan duration, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(speaker);
        var result = await listener.EvalJsonAsync(SampleAudioScript, new
        {
            peer = speaker.UserId,
            seconds = duration.TotalSeconds,
            intervalMs = interval.TotalMilliseconds,
        });
        return [.. result.EnumerateArray().Select(s => new AudioSample(
            s.GetProperty("t").GetDouble(),
            s.GetProperty("rms").ValueKind == JsonValueKind.Number ? s.GetProperty("rms").GetDouble() : null,
            s.GetProperty("hz").ValueKind == JsonValueKind.Number ? s.GetProperty("hz").GetDouble() : null))];
    }

    /// <summary>The colour name of a pgvc.pixel() result ([r, g, b] or null before the first frame).</summary>
    private static string Colour(JsonElement pixel)
    {
        if (pixel.ValueKind != JsonValueKind.Array)
        {
            return "-";
        }

        var rgb = pixel.EnumerateArray().Select(v => v.GetInt32()).ToArray();
        return FakeMedia.ColourName(rgb[0], rgb[1], rgb[2]);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
