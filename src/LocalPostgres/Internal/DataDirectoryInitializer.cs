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

        // initdb reads the password from a file (never from its command line, which any local user can read in
        // /proc), removed right after. The folder it is in is world-readable, so the file is made 0600 as it is
        // created (not chmod-ed after its content is written) and handed to the server's OS user, who runs initdb.
        var pwfile = Path.Combine(parent, $".initdb-{Guid.NewGuid():N}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var writer = new StreamWriter(pwfile, options))
            {
                await writer.WriteAsync(password.AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            if (runAsUser is not null)
            {
                OsUser.GiveTo(pwfile, runAsUser);
            }

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
