using System.Globalization;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// Throwaway data directories live under <c>$TMPDIR/pgvideochat-&lt;uid&gt;/</c>, each with an <c>owner</c> file naming
/// the AppHost process that made it. One left behind by an AppHost that died is removed (and its
/// server, should one have survived, stopped) the next time any AppHost starts a local server.
/// </summary>
internal static class ThrowawayDirectories
{
    private const string OwnerFile = "owner";

    public static string Root =>
        Path.Combine(Path.GetTempPath(), "pgvideochat-" + (OperatingSystem.IsWindows() ? "user" : NativeMethods.GetEffectiveUserId().ToString(CultureInfo.InvariantCulture)));

    /// <summary>A new folder name for this process; nothing is made until <see cref="Create"/>.</summary>
    public static string NewPath()
        => Path.Combine(Root, $"pg-{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public static void Create(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(Root);
        CleanStale();

        // World-traversable so that the postgres OS user can reach its data directory inside.
        OsUser.CreateDirectory(path, user: null, mode: "0755");
        File.WriteAllText(Path.Combine(path, OwnerFile), ProcessIdentity.Current.ToString());
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Removes the directories of AppHosts that are gone. Returns how many were removed.</summary>
    public static int CleanStale()
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var directory in Directory.EnumerateDirectories(Root, "pg-*"))
        {
            var ownerPath = Path.Combine(directory, OwnerFile);
            var owner = File.Exists(ownerPath) ? ProcessIdentity.Parse(File.ReadAllText(ownerPath)) : null;
            if (owner is { IsAlive: true })
            {
                continue;
            }

            if (owner is null && Directory.GetCreationTimeUtc(directory) > DateTime.UtcNow.AddMinutes(-1))
            {
                // Being created right now by another AppHost that has not written its owner file yet.
                continue;
            }

            StopOrphanedServer(Path.Combine(directory, "data"));
            Delete(directory);
            removed++;
        }

        return removed;
    }

    private static void StopOrphanedServer(string dataDirectory)
    {
        try
        {
            if (PostmasterPidFile.RunningPostmaster(dataDirectory) is { } pid)
            {
                NativeMethods.Kill(pid, Signals.SIGQUIT);
                for (var i = 0; i < 50 && ProcessIdentity.IsRunning(pid); i++)
                {
                    Thread.Sleep(100);
                }

                NativeMethods.Kill(pid, Signals.SIGKILL);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the directory is removed below either way.
        }
    }
}
