using System.Text.RegularExpressions;
using PgVideoChat.Protocol;
using PgVideoChat.TestSupport;

namespace PgVideoChat.Relay.Tests;

/// <summary>docs/metrics.md (and README's list) is the contract for dashboards: every series it lists is on <c>/metrics</c>.</summary>
[Collection(AppModelCollections.PgOutputV2)]
public sealed partial class MetricsTests(PgOutputV2Fixture fixture)
{
    [Fact]
    public async Task Every_series_in_docs_metrics_md_is_exported_after_a_call()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = cts.Token;
        await using (var alice = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Alice", ct))
        await using (var bob = await RelayTestClient.ConnectAsync(fixture.RelayUri, "Bob", ct))
        {
            var callId = await Calls.EstablishAsync(alice, ct, bob);
            await alice.SendFrameAsync(TestMedia.Video(callId, 1), TestMedia.Jpeg(10_000, 1), ct);
            await alice.SendFrameAsync(TestMedia.Audio(callId, 1), TestMedia.Pcm(1), ct);
            await bob.WaitForFramesAsync(2, _ => true, ct);
            await alice.SendTextAsync("{\"type\":\"nope\"}", ct);
            await alice.WaitForAsync(m => RelayTestClient.Type(m) == "error", ct);
        }

        var documented = SeriesName().Matches(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "metrics.md"), ct))
            .Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        Assert.True(documented.Count >= 15, $"only {documented.Count} series found in docs/metrics.md");
        var inReadme = SeriesName().Matches(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "README.md"), ct))
            .Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        Assert.Equal(documented, inReadme);

        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        string exposition = string.Empty;
        List<string> missing = documented;
        for (var attempt = 0; attempt < 20 && missing.Count > 0; attempt++)
        {
            // Disconnect counters and slot lag samples arrive a moment after the sockets close.
            await Task.Delay(attempt == 0 ? 0 : 500, ct);
            exposition = await http.GetStringAsync("/metrics", ct);
            missing = [.. documented.Where(name => !exposition.Contains("\n" + name, StringComparison.Ordinal))];
        }

        Assert.True(missing.Count == 0, $"documented but not exported: {string.Join(", ", missing)}\n{string.Join('\n', exposition.Split('\n').Where(l => l.StartsWith("pgvideochat", StringComparison.Ordinal)))}");
    }

    [Fact]
    public async Task The_series_present_before_the_first_frame_are_the_ones_docs_metrics_md_lists()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = cts.Token;
        // A fresh relay process: the counters of the tests before are gone.
        await fixture.App.RestartResourceAsync("relay", ct);
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("relay", ct);
        using var http = new HttpClient { BaseAddress = fixture.RelayUri };
        var exposition = await http.GetStringAsync("/metrics", ct);
        var present = exposition.Split('\n').Where(l => l.StartsWith("pgvideochat_", StringComparison.Ordinal))
            .Select(l => l.Split('{', ' ')[0]).Distinct().Order().ToList();

        var document = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "metrics.md"), ct);
        var section = document[document.IndexOf("## Before the first frame", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("\n## ", 5, StringComparison.Ordinal) is var end and > 0 ? end : section.Length)];
        var listed = SeriesName().Matches(section).Select(m => m.Groups[1].Value).Distinct().Order().ToList();
        Assert.True(listed.SequenceEqual(present), $"docs/metrics.md lists {string.Join(", ", listed)}\nbut a fresh relay exports {string.Join(", ", present)}");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PgVideoChat.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PgVideoChat.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"`(pgvideochat_[a-z_]+)`")]
    private static partial Regex SeriesName();
}
