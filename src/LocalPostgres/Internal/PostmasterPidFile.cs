using System.Globalization;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>The postmaster a data directory's <c>postmaster.pid</c> names, when it is alive and is a Postgres.</summary>
internal static class PostmasterPidFile
{
    public static int? RunningPostmaster(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        try
        {
            // A pid from an old postmaster.pid may have been recycled by an unrelated process.
            if (File.Exists(pidFile)
                && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ProcessIdentity.IsRunning(pid)
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains("postgres", StringComparison.Ordinal))
            {
                return pid;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
