using System.Globalization;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>Reads the relay's Prometheus endpoint (<c>/metrics</c>): every <c>pgvideochat_*</c> series, summed over labels.</summary>
internal sealed class RelayMetricsScraper(Uri relay) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = relay, Timeout = TimeSpan.FromMilliseconds(900) };

    /// <summary>Series name → value (labels summed), plus <c>name{label="x"}</c> for the labelled ones; null when unreachable.</summary>
    public async Task<Dictionary<string, double>?> ScrapeAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>
    /// The mean of a histogram's observations between two scrapes (from its <c>_sum</c> and <c>_count</c>), in the
    /// histogram's unit; null when nothing was observed in between.
    /// </summary>
    public static double? IntervalMean(IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after, string histogram)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var count = after.GetValueOrDefault(histogram + "_count") - before.GetValueOrDefault(histogram + "_count");
        return count > 0 ? (after.GetValueOrDefault(histogram + "_sum") - before.GetValueOrDefault(histogram + "_sum")) / count : null;
    }

    public static Dictionary<string, double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith("pgvideochat_", StringComparison.Ordinal))
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var closing = brace >= 0 ? line.IndexOf('}', brace) : -1;
            var nameEnd = brace >= 0 ? brace : line.IndexOf(' ', StringComparison.Ordinal);
            var valueStart = closing >= 0 ? closing + 1 : nameEnd;
            if (nameEnd <= 0 || valueStart < 0)
            {
                continue;
            }

            var parts = line[valueStart..].Trim().Split(' ');
            if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var name = line[..nameEnd];
            values[name] = values.GetValueOrDefault(name) + value;
            if (brace >= 0)
            {
                var series = line[..(closing + 1)];
                values[series] = values.GetValueOrDefault(series) + value;
            }
        }

        return values;
    }

    /// <summary>
    /// The relays' scrapes as one: every series summed (counters, histogram sums and counts, queue depths, clients),
    /// except the slot-lag gauges, which are per relay and so the largest of them.
    /// </summary>
    public static Dictionary<string, double> Merge(IEnumerable<IReadOnlyDictionary<string, double>> scrapes)
    {
        ArgumentNullException.ThrowIfNull(scrapes);
        var merged = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var scrape in scrapes)
        {
            foreach (var (name, value) in scrape)
            {
                merged[name] = !merged.TryGetValue(name, out var current) ? value
                    : name.StartsWith("pgvideochat_replication_lag_", StringComparison.Ordinal) ? Math.Max(current, value)
                    : current + value;
            }
        }

        return merged;
    }

    public void Dispose() => _http.Dispose();
}
