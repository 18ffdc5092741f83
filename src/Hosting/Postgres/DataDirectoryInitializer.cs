using System.Security.Cryptography;
using PgVideoChat.Hosting.Processes;

namespace PgVideoChat.Hosting.Postgres;

/// <summary>Runs initdb when a data directory is new, and keeps the superuser password of a persistent one.</summary>
internal static class DataDirectoryInitializer
{
    private const string PasswordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// <summary>Returns the superuser password the server now has.</summary>
    public static async Task<string> InitializeAsync(
        PostgresBinaries binaries,
        ProcessSpawner spawner,
        string dataDirectory,
        string socketDirectory,
        string? runAsUser,
        string? configuredPassword,
        bool throwaway,
        CancellationToken cancellationToken)
    {
        var passwordFile = dataDirectory.TrimEnd(Path.DirectorySeparatorChar) + ".password";
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            if (configuredPassword is not null)
            {
                return configuredPassword;
            }

            return File.Exists(passwordFile)
                ? (await File.ReadAllTextAsync(passwordFile, cancellationToken).ConfigureAwait(false)).Trim()
                : throw new DistributedApplicationException(
                    $"The data directory {dataDirectory} exists but its password file {passwordFile} does not. Set Postgres__Password to its postgres password, or delete the data directory to start afresh.");
        }

        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new DistributedApplicationException(
                $"The data directory {dataDirectory} is not empty and holds no Postgres cluster. Empty it or choose another one.");
        }

        var password = configuredPassword ?? GeneratePassword(24);
        var parent = Path.GetDirectoryName(dataDirectory)!;
        Directory.CreateDirectory(parent);
        OsUser.CreateDirectory(dataDirectory, runAsUser, "0700");
        if (socketDirectory != dataDirectory)
        {
            OsUser.CreateDirectory(socketDirectory, runAsUser, "0700");
        }

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
                "-U", LocalPostgresServer.SuperUser,
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

            var output = new List<string>();
            var initdb = await ChildProcess.StartAsync(spawner, new ChildProcessOptions
            {
                FileName = binaries.Initdb,
                Arguments = arguments,
                WorkingDirectory = parent,
                RunAsUser = runAsUser,
                Environment = new Dictionary<string, string?> { ["LC_ALL"] = "C.UTF-8" },
                OnOutput = (line, _) =>
                {
                    lock (output)
                    {
                        output.Add(line);
                    }
                },
            }).ConfigureAwait(false);
            var exitCode = await initdb.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new DistributedApplicationException($"initdb failed for {dataDirectory} (exit code {exitCode}): {string.Join(" | ", output.TakeLast(5))}");
            }
        }
        finally
        {
            File.Delete(pwfile);
        }

        if (!throwaway)
        {
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return password;
    }

    public static string GeneratePassword(int length) => RandomNumberGenerator.GetString(PasswordAlphabet, length);
}
