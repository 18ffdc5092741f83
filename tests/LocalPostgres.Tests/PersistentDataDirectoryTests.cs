using Npgsql;
using PgVideoChat.LocalPostgres.Tests.Support;
using Xunit.Abstractions;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class PersistentDataDirectoryTests(ITestOutputHelper output)
{
    private const string InitdbLine = "initdb made a PostgreSQL";

    [Fact(Timeout = 180_000)]
    public async Task ASecondRunFindsTheFirstRunsDataAndPasswordWithoutASecondInitdb()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        using var scratch = new ScratchDirectory();
        var data = Path.Combine(scratch.Path, "data");
        var passwordFile = data + ".password";

        var first = await RunAsync(data, async (connectionString, logs) =>
        {
            Assert.Single(logs.Lines, l => l.Contains(InitdbLine, StringComparison.Ordinal));
            await Sql.ExecuteAsync(connectionString, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written by run 1')", ct);
        }, ct);
        var password = await File.ReadAllTextAsync(passwordFile, ct);
        Assert.Equal(password, first.Password);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));

        var second = await RunAsync(data, async (connectionString, logs) =>
        {
            Assert.DoesNotContain(logs.Lines, l => l.Contains(InitdbLine, StringComparison.Ordinal));
            Assert.Equal("written by run 1", await Sql.ScalarAsync<string>(connectionString, "SELECT body FROM notes", ct));
        }, ct);
        Assert.Equal(password, second.Password);
        Assert.Equal(password, await File.ReadAllTextAsync(passwordFile, ct));
        output.WriteLine($"StartAsync to database healthy: run 1 (initdb) {first.StartSeconds:0.0} s, run 2 {second.StartSeconds:0.0} s");
    }

    private async Task<(string? Password, double StartSeconds)> RunAsync(string data, Func<string, ResourceLogRecorder, Task> duringRun, CancellationToken ct)
    {
        string? unusedThrowaway = null;
        await using var pg = await LocalPostgresApp.StartAsync(
            ct,
            server: s =>
            {
                unusedThrowaway = s.Resource.DataDirectory.Root;
                s.WithDataDirectory(data);
            },
            recordLogs: true);
        var logs = pg.Logs!;

        // The server's own lines come through DCP after the AppHost's initdb line: once they are in, so is that one.
        await logs.WaitForLineAsync("database system is ready to accept connections", ct);
        var connectionString = await pg.ConnectionStringAsync(ct);
        await duringRun(connectionString, logs);

        await pg.StopAsync(ct);
        Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")));
        Assert.False(Directory.Exists(unusedThrowaway));
        output.WriteLine(string.Join(Environment.NewLine, logs.Lines));
        return (new NpgsqlConnectionStringBuilder(connectionString).Password, pg.StartTime.TotalSeconds);
    }
}
