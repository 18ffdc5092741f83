using System.Globalization;
using PgVideoChat.LoadTests.Reports;

namespace PgVideoChat.LoadTests.Monitoring;

/// <summary>
/// The operating-system settings that decided this project's capacity figures (docs/notes/relay.md), read from
/// <c>/proc</c> when a run starts so that a report says what it was measured on. Null where it cannot be read
/// (not Linux, no access).
/// </summary>
/// <param name="DataDirectory">Postgres's data directory (the postmaster's working directory), when its pid is known.</param>
/// <param name="DataMountPoint">The mount point of the file system that holds it.</param>
/// <param name="DataMountOptions">That mount's options, as in <c>/proc/self/mountinfo</c>.</param>
/// <param name="OnlineDiscard">Whether that file system is mounted with <c>discard</c>.</param>
/// <param name="DirtyBackgroundBytes"><c>vm.dirty_background_bytes</c> (0: the ratio applies).</param>
/// <param name="DirtyBackgroundRatio"><c>vm.dirty_background_ratio</c>.</param>
/// <param name="HugePages"><c>vm.nr_hugepages</c>.</param>
/// <param name="Warnings">What in these settings is known to cut the capacity, with the command that changes it.</param>
public sealed record HostFacts(
    int ProcessorCount,
    string? Kernel,
    string? DataDirectory,
    string? DataMountPoint,
    string? DataMountOptions,
    bool? OnlineDiscard,
    long? DirtyBackgroundBytes,
    int? DirtyBackgroundRatio,
    int? HugePages,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Reads the facts and logs them, each warning on a line of its own.</summary>
    public static HostFacts Report(int? postgresPid, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var facts = Read(postgresPid);
        log($"host: {facts}");
        foreach (var warning in facts.Warnings)
        {
            log($"host warning: {warning}");
        }

        return facts;
    }

    /// <summary>Reads the facts; <paramref name="postgresPid"/> locates the data directory (null: unknown).</summary>
    public static HostFacts Read(int? postgresPid)
    {
        var dataDirectory = postgresPid is { } pid ? Link($"/proc/{pid}/cwd") : null;
        var mount = dataDirectory is null ? null : MountOf(dataDirectory);
        bool? discard = mount is { } m ? m.Options.Split(',').Contains("discard", StringComparer.Ordinal) : null;
        var dirtyBytes = Number("/proc/sys/vm/dirty_background_bytes");
        var dirtyRatio = Number("/proc/sys/vm/dirty_background_ratio");
        var warnings = new List<string>();
        if (discard == true)
        {
            // Measured 2026-11-29: each dropped frame partition (~450 MB at 50 calls) went to the device as discards
            // within a second, and commits took 25-40 ms for the next 5-15 s; at 55 calls p99 377-484 ms with it,
            // 116-136 ms without (docs/notes/relay.md, "Online discard").
            warnings.Add($"{mount!.Value.MountPoint} (Postgres's data directory) is mounted with online discard: every dropped frame partition becomes hundreds of MB of discards that stall the WAL's fsync for seconds. For capacity runs: mount -o remount,nodiscard {mount.Value.MountPoint} (fstrim {mount.Value.MountPoint} afterwards, mount -o remount,discard {mount.Value.MountPoint} to restore)");
        }

        if (dirtyBytes is 0 or > 16L * 1024 * 1024)
        {
            // The kernel otherwise writes the frame pages in large bursts and the WAL's fdatasync waits behind them.
            warnings.Add($"vm.dirty_background_{(dirtyBytes is 0 ? $"ratio is {dirtyRatio} %" : $"bytes is {dirtyBytes}")}: the kernel writes frame pages in bursts that the WAL's fsync queues behind. For capacity runs: sysctl -w vm.dirty_background_bytes=16777216 (sysctl -w vm.dirty_background_ratio=10 restores the default)");
        }

        return new HostFacts(
            Environment.ProcessorCount,
            Text("/proc/sys/kernel/osrelease"),
            dataDirectory,
            mount?.MountPoint,
            mount?.Options,
            discard,
            dirtyBytes,
            dirtyRatio is { } r ? (int)r : null,
            Number("/proc/sys/vm/nr_hugepages") is { } h ? (int)h : null,
            warnings);
    }

    /// <summary>The reports' "host" section: the settings, then each warning.</summary>
    public ReportSection Section()
        => new("host", [new("settings", ToString()), .. Warnings.Select(w => new KeyValuePair<string, string>("warning", w))]);

    /// <summary>One line for the reports' section of the run.</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{ProcessorCount} CPUs, kernel {Kernel ?? "?"}; Postgres data in {DataDirectory ?? "?"} on {DataMountPoint ?? "?"} ({(OnlineDiscard switch { true => "online discard", false => "no online discard", null => "mount options unknown" })}); vm.dirty_background_bytes {DirtyBackgroundBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"}, vm.dirty_background_ratio {DirtyBackgroundRatio?.ToString(CultureInfo.InvariantCulture) ?? "?"}, vm.nr_hugepages {HugePages?.ToString(CultureInfo.InvariantCulture) ?? "?"}");

    /// <summary>The longest mount point that contains <paramref name="path"/>, with its mount and super-block options.</summary>
    internal static (string MountPoint, string Options)? MountOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            (string MountPoint, string Options)? best = null;
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" (proc(5)).
                var fields = line.Split(' ');
                var separator = Array.IndexOf(fields, "-");
                if (fields.Length < 6 || separator < 6 || fields.Length < separator + 4)
                {
                    continue;
                }

                var mountPoint = Unescape(fields[4]);
                if (IsUnder(path, mountPoint) && (best is null || mountPoint.Length >= best.Value.MountPoint.Length))
                {
                    best = (mountPoint, fields[5] + "," + fields[separator + 3]);
                }
            }

            return best;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsUnder(string path, string mountPoint)
        => mountPoint == "/"
            || path == mountPoint
            || path.StartsWith(mountPoint.EndsWith('/') ? mountPoint : mountPoint + "/", StringComparison.Ordinal);

    // mountinfo escapes space, tab, newline and backslash as octal (\040 …).
    private static string Unescape(string field)
        => field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    private static string? Link(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Text(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? Number(string path)
        => long.TryParse(Text(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
