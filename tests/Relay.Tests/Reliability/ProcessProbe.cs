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

    /// <summary>CPU time (user + system) the process has used so far, all threads.</summary>
    public static TimeSpan CpuTime(int pid) => CpuTime(pid, includeReapedChildren: false);

    /// <summary>CPU time of a process and its children: the live ones and those it has reaped (Postgres's backends).</summary>
    public static TimeSpan CpuTimeOfTree(int pid)
    {
        var total = CpuTime(pid, includeReapedChildren: true);
        foreach (var child in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(child), NumberStyles.None, CultureInfo.InvariantCulture, out var childPid) && childPid != pid)
            {
                try
                {
                    if (StatFields(childPid)[1] == pid.ToString(CultureInfo.InvariantCulture))
                    {
                        total += CpuTime(childPid, includeReapedChildren: true);
                    }
                }
                catch (IOException)
                {
                    // Exited meanwhile (its time is then in the parent's reaped-children figure).
                }
            }
        }

        return total;
    }

    /// <summary>The parent of a process.</summary>
    public static int ParentOf(int pid) => int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);

    private static TimeSpan CpuTime(int pid, bool includeReapedChildren)
    {
        // /proc/<pid>/stat after the command: state ppid … utime(12) stime(13) cutime(14) cstime(15), in clock ticks (100/s).
        var fields = StatFields(pid);
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (includeReapedChildren)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    /// <summary>True while the process runs (a zombie awaiting its reaper counts as gone).</summary>
    public static bool IsAlive(int pid) => PgVideoChat.TestSupport.ProcFs.IsAlive(pid);

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
