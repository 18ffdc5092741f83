using System.Collections.Concurrent;
using System.Globalization;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>One scraped series value: counters become per-second rates, gauges and histogram quantiles stay as they are.</summary>
internal sealed record MetricPoint(DateTimeOffset Time, string Resource, string Series, double Value);

/// <summary>
/// Scrapes the Prometheus endpoint (<c>/metrics</c>) of every project once a second and keeps ten minutes of the
/// services' own series (<c>pgvideochat_*</c>), so the dashboard charts them without an external Prometheus.
/// </summary>
internal sealed class PrometheusScraper(DistributedApplication application) : IAsyncDisposable
{
    private const string OwnPrefix = "pgvideochat_";
    private readonly ConcurrentQueue<MetricPoint> _history = new();
    private readonly Dictionary<(string Resource, string Series), (DateTimeOffset Time, double Value)> _lastCounters = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public IReadOnlyList<MetricPoint> History => [.. _history];

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var project in application.Resources.OfType<ProjectResource>())
            {
                if (application.ResourceNotifications.TryGet(project.Name) is not { State: Orchestration.ResourceStates.Running } || project.GetEndpointUrl("http") is not { } url)
                {
                    continue;
                }

                string text;
                try
                {
                    text = await _http.GetStringAsync(url + "/metrics", cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    continue;
                }

                foreach (var point in Parse(project.Name, text, now))
                {
                    _history.Enqueue(point);
                }
            }

            var horizon = now.AddSeconds(-ReplicationSlotSampler.HistoryLength);
            while (_history.TryPeek(out var oldest) && oldest.Time < horizon)
            {
                _history.TryDequeue(out _);
            }
        }
    }

    private IEnumerable<MetricPoint> Parse(string resource, string text, DateTimeOffset now)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4)
                {
                    types[parts[2]] = parts[3];
                }

                continue;
            }

            if (line.Length == 0 || line[0] == '#' || !line.StartsWith(OwnPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var valueStart = line.LastIndexOf('}') is var brace and >= 0 ? line.IndexOf(' ', brace) : line.IndexOf(' ', StringComparison.Ordinal);
            if (valueStart < 0)
            {
                continue;
            }

            var series = line[..valueStart];
            var valueText = line[(valueStart + 1)..].Split(' ')[0];
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var name = series.Split('{')[0];
            var family = FamilyOf(name, types);
            if (family.Type is "histogram" && name.EndsWith("_bucket", StringComparison.Ordinal))
            {
                // Buckets are many; the dashboard charts rates of _count and the mean from _sum/_count.
                continue;
            }

            if (family.Type is "counter" || name.EndsWith("_total", StringComparison.Ordinal) || name.EndsWith("_count", StringComparison.Ordinal) || name.EndsWith("_sum", StringComparison.Ordinal))
            {
                var key = (resource, series);
                if (_lastCounters.TryGetValue(key, out var last) && now > last.Time && value >= last.Value)
                {
                    yield return new MetricPoint(now, resource, series + " /s", (value - last.Value) / (now - last.Time).TotalSeconds);
                }

                _lastCounters[key] = (now, value);
            }
            else
            {
                yield return new MetricPoint(now, resource, series, value);
            }
        }
    }

    private static (string Name, string? Type) FamilyOf(string name, Dictionary<string, string> types)
    {
        foreach (var suffix in new[] { "_bucket", "_count", "_sum", string.Empty })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(name[..^suffix.Length], out var type))
            {
                return (name[..^suffix.Length], type);
            }
        }

        return (name, null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
