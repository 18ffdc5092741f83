using System.Globalization;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>What a process holds, from /proc: resident memory and open file descriptors.</summary>
internal static class ProcessProbe
{
    public static long RssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public static int OpenFiles(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    public static async Task<double> MetricAsync(Uri relay, string name, string? label, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = relay };
        var exposition = await http.GetStringAsync("/metrics", cancellationToken);
        return exposition.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && l.Length > name.Length && l[name.Length] is ' ' or '{'
                && (label is null || l.Contains(label, StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
    }

    public static async Task<bool> IsHealthyAsync(Uri relay, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = relay, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return (await http.GetAsync("/health", cancellationToken)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the time is up.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:F0} s: {what}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}
