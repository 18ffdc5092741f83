using System.Globalization;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// A process id together with its start time, so that a recycled pid is not mistaken for the process that wrote it.
/// </summary>
internal readonly record struct ProcessIdentity(int Pid, long StartTicks)
{
    public static ProcessIdentity Current => new(Environment.ProcessId, ReadStartTicks(Environment.ProcessId) ?? 0);

    public bool IsAlive => ReadStartTicks(Pid) is { } ticks && ticks == StartTicks;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Pid} {StartTicks}");

    public static ProcessIdentity? Parse(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new ProcessIdentity(pid, ticks)
            : null;
    }

    public static bool IsRunning(int pid) => ReadStartTicks(pid) is not null;

    /// <summary>Field 22 of /proc/PID/stat: start time in clock ticks after boot.</summary>
    private static long? ReadStartTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
            var afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(afterName[19], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
