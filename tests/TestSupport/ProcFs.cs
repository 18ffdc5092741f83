using System.Diagnostics;
using System.Globalization;

namespace PgVideoChat.TestSupport;

/// <summary>
/// Processes as Linux's /proc shows them. DCP reports only the pid it started, which for a project is a
/// <c>dotnet run</c> launcher with the application as its child (for the local Postgres, a shell wrapper): killing,
/// measuring or waiting for "the resource's process" needs the tree below that pid.
/// </summary>
public static class ProcFs
{
    /// <summary>
    /// True while the process runs. A zombie counts as gone: it holds no memory, ports or files, and here (PID 1 reaps
    /// orphans only every few seconds) a killed orphan stays one for a while.
    /// </summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State is not ('Z' or 'X');

    /// <summary>The pids whose parent is <paramref name="pid"/>.</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var candidate)
                && candidate != pid && Stat(candidate) is { } stat && stat.ParentPid == pid)
            {
                children.Add(candidate);
            }
        }

        return children;
    }

    /// <summary>A process and everything below it, parents before their children.</summary>
    public static IReadOnlyList<int> TreeOf(int pid)
    {
        var tree = new List<int> { pid };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(ChildrenOf(tree[i]).Where(child => !tree.Contains(child)));
        }

        return tree;
    }

    /// <summary>The process's arguments (argv); empty once it is gone.</summary>
    public static IReadOnlyList<string> CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// The application behind a pid DCP reports: below a launcher (<c>dotnet run</c>, how DCP starts a project, or a
    /// shell wrapper such as the one the local Postgres runs in) its only live child, otherwise the pid itself.
    /// </summary>
    public static int ApplicationProcess(int pid)
    {
        var current = pid;
        while (IsLauncher(CommandLine(current)) && ChildrenOf(current).Where(IsAlive).ToList() is [var child])
        {
            current = child;
        }

        return current;
    }

    /// <summary>SIGKILLs each process that still runs (<see cref="Process.Kill()"/> is SIGKILL on Linux).</summary>
    internal static void Kill(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }

    /// <summary>Waits until none of the processes runs; false when some still do after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitUntilGoneAsync(IEnumerable<int> pids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var waiting = pids.ToList();
        while (true)
        {
            waiting.RemoveAll(pid => !IsAlive(pid));
            if (waiting.Count == 0)
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>
    /// Every live process whose environment holds <paramref name="name"/>=<paramref name="value"/>: DCP and what it
    /// starts inherit the AppHost's environment, so a marker set on an AppHost finds everything it caused to run,
    /// whichever session or parent each process ended up in.
    /// </summary>
    public static IReadOnlyList<int> WithEnvironmentVariable(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        var entry = $"{name}={value}";
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllText($"/proc/{pid}/environ").Split('\0').Contains(entry) && IsAlive(pid))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or a kernel thread.
            }
        }

        return found;
    }

    /// <summary>"1234 (dotnet exec /path/Relay.dll)" for messages.</summary>
    public static string Describe(int pid) => $"{pid} ({string.Join(' ', CommandLine(pid))})";

    private static bool IsLauncher(IReadOnlyList<string> argv) =>
        argv.Count >= 1 && (Path.GetFileName(argv[0]) is "sh" or "bash" or "dash"
            || (argv.Count >= 2 && Path.GetFileName(argv[0]) == "dotnet" && argv[1] == "run"));

    private static (char State, int ParentPid)? Stat(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse from the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
    }
}
