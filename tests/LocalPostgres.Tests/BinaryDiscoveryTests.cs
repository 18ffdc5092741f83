using System.Diagnostics;
using PgVideoChat.Hosting.LocalPostgres;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class BinaryDiscoveryTests
{
    private static readonly string[] PgConfigFolders = ["/usr/bin", "/usr/local/bin"];

    [Fact(Timeout = 60_000)]
    public async Task AMissingBinDirectoryFailsAtAddWithOneLineThatNamesTheFix()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        var failure = Assert.Throws<DistributedApplicationException>(() => builder.AddLocalPostgres("pg", binDirectory: "/nonexistent"));
        Assert.DoesNotContain('\n', failure.Message);
        Assert.Contains("'/nonexistent'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Postgres__BinDirectory", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Point it at the folder that holds them", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(builder.Resources, r => r.Name == "pg");

        // The message when nothing is found anywhere (not reachable on a machine that has a server installed).
        Assert.DoesNotContain('\n', PostgresBinaries.MissingMessage);
        Assert.Contains("apt-get install postgresql", PostgresBinaries.MissingMessage, StringComparison.Ordinal);
        Assert.Contains("Postgres__BinDirectory", PostgresBinaries.MissingMessage, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task DiscoveryTakesTheFirstFolderOnPathThatHoldsTheServer()
    {
        var expected = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(folder => File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "postgres")));
        Assert.True(expected is not null, "This machine has initdb and postgres on PATH (/usr/local/bin links them).");

        var found = await Task.Run(() => PostgresBinaries.Locate());
        Assert.Equal(expected, found.BinDirectory);
        Assert.Equal(MajorVersionOf(found.Postgres), found.MajorVersion);
        Assert.True(found.MajorVersion >= PostgresBinaries.MinimumMajorVersion);
    }

    [Fact(Timeout = 60_000)]
    public async Task DiscoveryAsksPgConfigWhenPathHoldsNoServer()
    {
        var pgConfig = PgConfigFolders.FirstOrDefault(folder => File.Exists(Path.Combine(folder, "pg_config")));
        Assert.True(pgConfig is not null, "This machine has pg_config (libpq-dev) in /usr/bin.");
        var bindir = Run(Path.Combine(pgConfig, "pg_config"), "--bindir");

        // A PATH with pg_config but no server; the process-wide variable is safe to change since tests run one at a time.
        var path = Environment.GetEnvironmentVariable("PATH");
        var onlyPgConfig = Directory.CreateTempSubdirectory("lpt-path-");
        try
        {
            File.CreateSymbolicLink(Path.Combine(onlyPgConfig.FullName, "pg_config"), Path.Combine(pgConfig, "pg_config"));
            Environment.SetEnvironmentVariable("PATH", onlyPgConfig.FullName);
            Assert.Equal(bindir, (await Task.Run(() => PostgresBinaries.Locate())).BinDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            onlyPgConfig.Delete(recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task AConfiguredBinDirectoryIsTheOneTheServerRuns()
    {
        var installed = Path.GetDirectoryName(Path.GetFullPath(ResolveLinks(PostgresBinaries.Locate().Postgres)))!;
        await using var builder = DistributedApplicationTestingBuilder.Create();
        var pg = builder.AddLocalPostgres("pg", binDirectory: installed);
        Assert.Equal(installed, pg.Resource.Binaries.BinDirectory);
        Assert.Equal(Path.Combine(installed, "postgres"), pg.Resource.Binaries.Postgres);
    }

    private static string ResolveLinks(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    private static int MajorVersionOf(string postgres)
    {
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        var version = Run(postgres, "--version").Split(' ')[2];
        return int.Parse(version.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Run(string fileName, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo(fileName, argument) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }
}
