using System.Globalization;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>CPU time and memory of processes from <c>/proc</c> (Linux); null where it cannot be read.</summary>
internal static class ProcStats
{
    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>utime + stime (and, with <paramref name="withChildren"/>, cutime + cstime of reaped children) in seconds.</summary>
    public static double? CpuSeconds(int pid, bool withChildren = false)
    {
        var fields = StatFields(pid);
        if (fields is null)
        {
            return null;
        }

        // Fields after "(comm)": [0] state, [1] ppid, … [11] utime, [12] stime, [13] cutime, [14] cstime.
        var ticks = Long(fields[11]) + Long(fields[12]);
        if (withChildren)
        {
            ticks += Long(fields[13]) + Long(fields[14]);
        }

        return ticks / TicksPerSecond;
    }

    public static int? ParentPid(int pid) => StatFields(pid) is { } fields ? (int)Long(fields[1]) : null;

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public static long? RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }

    /// <summary>A process and all its live children (one level, e.g. a postmaster's backends): total CPU seconds, total RSS.</summary>
    public static (double CpuSeconds, long RssBytes)? Tree(int pid)
    {
        if (CpuSeconds(pid, withChildren: true) is not { } cpu)
        {
            return null;
        }

        var rss = RssBytes(pid) ?? 0;
        foreach (var child in Children(pid))
        {
            cpu += CpuSeconds(child) ?? 0;
            rss += RssBytes(child) ?? 0;
        }

        return (cpu, rss);
    }

    /// <summary>
    /// The postmaster's live walsenders (children whose process title, <c>/proc/&lt;pid&gt;/cmdline</c>, starts with
    /// <c>postgres: walsender</c>, or <c>postgres: &lt;cluster_name&gt;: walsender</c>): CPU seconds of each by pid, so
    /// that their sum and count are at hand; null when the postmaster cannot be read. A walsender that exits between
    /// the listing and the reading is left out.
    /// </summary>
    public static IReadOnlyDictionary<int, double>? Walsenders(int postmasterPid)
    {
        if (StatFields(postmasterPid) is null)
        {
            return null;
        }

        var walsenders = new Dictionary<int, double>();
        foreach (var child in Children(postmasterPid))
        {
            if (IsWalsender(ProcessTitle(child)) && CpuSeconds(child) is { } cpu)
            {
                walsenders[child] = cpu;
            }
        }

        return walsenders;
    }

    // "postgres: walsender …", or "postgres: <cluster_name>: walsender …".
    private static bool IsWalsender(string? title) =>
        title is not null && title.StartsWith("postgres: ", StringComparison.Ordinal) && title.Contains(": walsender ", StringComparison.Ordinal);

    /// <summary>The first NUL-separated part of <c>/proc/&lt;pid&gt;/cmdline</c> (Postgres writes its process title there); null when the process is gone.</summary>
    private static string? ProcessTitle(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            var end = cmdline.IndexOf('\0', StringComparison.Ordinal);
            return end < 0 ? cmdline : cmdline[..end];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The pids of the live children of <paramref name="pid"/> (one level).</summary>
    internal static IEnumerable<int> Children(int pid)
    {
        // The kernel's own list (CONFIG_PROC_CHILDREN, on in Debian's and most distributions' kernels): one small read
        // per thread instead of reading every process's stat file on the machine, twice a second (about 2 % of
        // the runner's CPU samples at 45 calls).
        if (ListedChildren(pid) is { } listed)
        {
            return listed;
        }

        return ScannedChildren(pid);
    }

    internal static List<int>? ListedChildren(int pid)
    {
        try
        {
            var children = new List<int>();
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                foreach (var child in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    children.Add(int.Parse(child, NumberStyles.None, CultureInfo.InvariantCulture));
                }
            }

            return children;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    internal static IEnumerable<int> ScannedChildren(int pid)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var child) && child != pid && ParentPid(child) == pid)
            {
                yield return child;
            }
        }
    }

    /// <summary>
    /// Busy, stolen and total jiffies of the whole machine (first line of /proc/stat). Steal is the time the hypervisor
    /// gave this VM's virtual CPUs to somebody else: it counts as busy, and a run with much of it measured a smaller machine.
    /// </summary>
    public static (long Busy, long Steal, long Total)? Machine()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(Long).ToArray();
            var idle = values[3] + (values.Length > 4 ? values[4] : 0);
            var total = values.Take(8).Sum();
            var steal = values.Length > 7 ? values[7] : 0;
            return (total - idle, steal, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// Bytes written to the machine's disks so far: the sectors written of every block device with a device behind it
    /// (<c>/sys/block/*/device</c>: not loop, ram or device-mapper devices, which would count the same write twice).
    /// </summary>
    public static long? DiskBytesWritten()
    {
        try
        {
            long sectors = 0;
            var any = false;
            foreach (var device in Directory.EnumerateDirectories("/sys/block"))
            {
                if (!Directory.Exists(Path.Combine(device, "device")))
                {
                    continue;
                }

                // Field 7 of the stat file is sectors written, always in 512-byte units.
                var fields = File.ReadAllText(Path.Combine(device, "stat")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                sectors += Long(fields[6]);
                any = true;
            }

            return any ? sectors * 512 : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var close = text.LastIndexOf(')');
            return close < 0 ? null : text[(close + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Long(string text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;
}

/// <summary>CPU use in percent of one core between two readings.</summary>
internal sealed class CpuMeter(Func<double?> read)
{
    private double? _lastCpu;
    private long _lastTimestamp;

    public double? Sample() => Sample(read());

    /// <summary>The same, from a reading the caller already took (e.g. a process tree read once for CPU and RSS).</summary>
    public double? Sample(double? cpu)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        double? percent = null;
        if (cpu is { } c && _lastCpu is { } last && now > _lastTimestamp)
        {
            var wall = (now - _lastTimestamp) / (double)System.Diagnostics.Stopwatch.Frequency;
            percent = Math.Max(0, (c - last) / wall * 100);
        }

        _lastCpu = cpu;
        _lastTimestamp = now;
        return percent;
    }
}

/// <summary>
/// CPU use in percent of one core between two readings of a set of processes that come and go (walsenders, which
/// restart with their relays): each process's own delta, summed, and how many processes there are now.
/// </summary>
internal sealed class ProcessSetCpuMeter(Func<IReadOnlyDictionary<int, double>?> read)
{
    private IReadOnlyDictionary<int, double>? _last;
    private long _lastTimestamp;

    public (double? Percent, int? Count) Sample()
    {
        var cpu = read();
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        double? percent = null;
        if (cpu is not null && _last is { } last && now > _lastTimestamp)
        {
            var seconds = 0.0;
            foreach (var (pid, c) in cpu)
            {
                // Per process, never a plain sum: an exited walsender would make a sum drop (a negative rate); a new (or reused) pid counts from 0.
                seconds += last.TryGetValue(pid, out var previous) && previous <= c ? c - previous : c;
            }

            var wall = (now - _lastTimestamp) / (double)System.Diagnostics.Stopwatch.Frequency;
            percent = seconds / wall * 100;
        }

        _last = cpu;
        _lastTimestamp = now;
        return (percent, cpu?.Count);
    }
}
