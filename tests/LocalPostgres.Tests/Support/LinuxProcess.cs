using System.Globalization;

namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>A process as /proc shows it. The start time tells a recycled pid from the process seen earlier.</summary>
internal sealed record LinuxProcess(int Pid, int ParentPid, uint Uid, long StartTicks, IReadOnlyList<string> Arguments)
{
    public string CommandLine => string.Join(' ', Arguments);

    public bool IsAlive => Read(Pid) is { } now && now.StartTicks == StartTicks;

    public static LinuxProcess? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // Field 2 (the command name) may hold spaces and parentheses; the fields after its closing one are plain.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            var startTicks = long.Parse(fields[19], CultureInfo.InvariantCulture);
            var uidLine = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var uid = uint.Parse(uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            return new LinuxProcess(pid, parent, uid, startTicks, arguments);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            // Gone between listing and reading, or a zombie without a command line.
            return null;
        }
    }

    public static IReadOnlyList<LinuxProcess> All() =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? Read(pid) : null)
            .OfType<LinuxProcess>()];

    public IReadOnlyList<LinuxProcess> Children() => [.. All().Where(p => p.ParentPid == Pid)];
}
