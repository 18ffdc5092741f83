namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>Runs initdb when a data directory is new, and keeps the superuser password of a persistent one.</summary>
internal static class DataDirectoryInitializer
{
    /// <summary>Runs initdb unless the data directory already holds a cluster; returns whether it did.</summary>
    public static async Task<bool> InitializeAsync(
        PostgresBinaries binaries,
        string dataDirectory,
        string socketDirectory,
        string? runAsUser,
        string password,
        bool throwaway,
        CancellationToken cancellationToken)
    {
        if (socketDirectory != dataDirectory && !Directory.Exists(socketDirectory))
        {
            OsUser.CreateDirectory(socketDirectory, runAsUser, "0700");
        }

        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            return false;
        }

        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new DistributedApplicationException(
                $"The data directory {dataDirectory} is not empty and holds no Postgres cluster. Empty it or choose another one.");
        }

        var parent = Path.GetDirectoryName(dataDirectory)!;
        Directory.CreateDirectory(parent);
        OsUser.CreateDirectory(dataDirectory, runAsUser, "0700");

        // initdb reads the password from a file the server's OS user can read; it is removed right after.
        var pwfile = Path.Combine(parent, $".initdb-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pwfile, password, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(pwfile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        try
        {
            var arguments = new List<string>
            {
                "-D", dataDirectory,
                "-U", LocalPostgresServerResource.SuperUser,
                "--pwfile", pwfile,
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            };
            if (throwaway)
            {
                // No fsync for data that is deleted at the end of the run: initdb takes 0.8 s instead of several.
                arguments.Add("--no-sync");
            }

            var (exitCode, output) = await ToolProcess.RunAsync(binaries.Initdb, arguments, runAsUser, parent, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new DistributedApplicationException($"initdb failed for {dataDirectory} (exit code {exitCode}): {string.Join(" | ", output.TakeLast(5))}");
            }
        }
        finally
        {
            File.Delete(pwfile);
        }

        return true;
    }
}
