using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>Where the PostgreSQL server programs (initdb, postgres) of this machine are.</summary>
public sealed partial record PostgresBinaries(string BinDirectory, int MajorVersion)
{
    public const int MinimumMajorVersion = 15;

    public string Initdb => Path.Combine(BinDirectory, "initdb");

    public string Postgres => Path.Combine(BinDirectory, "postgres");

    public static string MissingMessage =>
        "PostgreSQL server binaries (initdb, postgres) were not found on PATH, through pg_config, or in the usual "
        + "install folders. Install them (Debian/Ubuntu: sudo apt-get install postgresql; Fedora: sudo dnf install "
        + "postgresql-server; macOS: brew install postgresql@17) or set Postgres__BinDirectory to the folder that holds them.";

    /// <summary>
    /// Looks in order at: the configured folder, PATH, <c>pg_config --bindir</c>, and the folders distributions
    /// install to (newest major version first).
    /// </summary>
    public static PostgresBinaries Locate(string? configuredBinDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(configuredBinDirectory))
        {
            return TryAt(configuredBinDirectory)
                ?? throw new DistributedApplicationException(
                    $"Postgres__BinDirectory is '{configuredBinDirectory}', but initdb and postgres are not both there. Point it at the folder that holds them, or unset it to search the usual places.");
        }

        foreach (var candidate in Candidates())
        {
            if (TryAt(candidate) is { } found)
            {
                return found;
            }
        }

        throw new DistributedApplicationException(MissingMessage);
    }

    /// <summary>Like <see cref="Locate"/>, but answers with the problem instead of throwing.</summary>
    public static bool TryLocate(string? configuredBinDirectory, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PostgresBinaries? binaries, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        try
        {
            binaries = Locate(configuredBinDirectory);
            problem = null;
            return true;
        }
        catch (DistributedApplicationException ex)
        {
            binaries = null;
            problem = ex.Message;
            return false;
        }
    }

    private static IEnumerable<string> Candidates()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            yield return folder;
        }

        if (PgConfigBinDirectory() is { } fromPgConfig)
        {
            yield return fromPgConfig;
        }

        foreach (var root in new[] { "/usr/lib/postgresql", "/usr/local/lib/postgresql" })
        {
            foreach (var folder in NewestFirst(root, "*", name => name))
            {
                yield return Path.Combine(folder, "bin");
            }
        }

        foreach (var folder in NewestFirst("/usr", "pgsql-*", name => name["pgsql-".Length..]))
        {
            yield return Path.Combine(folder, "bin");
        }

        foreach (var root in new[] { "/opt/homebrew/opt", "/usr/local/opt" })
        {
            foreach (var folder in NewestFirst(root, "postgresql@*", name => name["postgresql@".Length..]))
            {
                yield return Path.Combine(folder, "bin");
            }
        }

        yield return "/usr/local/pgsql/bin";
    }

    private static IEnumerable<string> NewestFirst(string root, string pattern, Func<string, string> version)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateDirectories(root, pattern)
            .Select(folder => (folder, major: int.TryParse(version(Path.GetFileName(folder)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(x => x.major >= 0)
            .OrderByDescending(x => x.major)
            .Select(x => x.folder);
    }

    private static string? PgConfigBinDirectory()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(5000) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static PostgresBinaries? TryAt(string folder)
    {
        var initdb = Path.Combine(folder, "initdb");
        var postgres = Path.Combine(folder, "postgres");
        if (!File.Exists(initdb) || !File.Exists(postgres))
        {
            return null;
        }

        var major = ReadMajorVersion(postgres);
        if (major < MinimumMajorVersion)
        {
            throw new DistributedApplicationException(
                $"PostgreSQL {major} was found in {folder}, but PgVideoChat needs {MinimumMajorVersion} or newer. Install a newer server or set Postgres__BinDirectory to one.");
        }

        return new PostgresBinaries(folder, major);
    }

    private static int ReadMajorVersion(string postgres)
    {
        using var process = Process.Start(new ProcessStartInfo(postgres, "--version")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new DistributedApplicationException($"Could not run '{postgres} --version'.");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var match = VersionPattern().Match(output);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();
}
