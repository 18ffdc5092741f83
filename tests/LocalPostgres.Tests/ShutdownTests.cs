using Npgsql;
using PgVideoChat.Hosting.LocalPostgres;
using PgVideoChat.LocalPostgres.Tests.Support;
using Xunit.Abstractions;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task StoppingTheAppIsAFastShutdownThatEndsEveryServerProcessAndRemovesTheThrowawayDirectory()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        using var scratch = new ScratchDirectory();
        // Once the app stops, DCP no longer streams the server's output to its resource log, so for this test the
        // server writes its log to a file that outlives the run.
        var logDirectory = Path.Combine(scratch.Path, "log");
        await using var pg = await LocalPostgresApp.StartAsync(ct, server: s =>
        {
            s.WithSetting("logging_collector", "on").WithSetting("log_directory", logDirectory).WithSetting("log_filename", "postgres.log");
            OsUser.CreateDirectory(logDirectory, s.Resource.RunAsUser, "0755");
        });
        var footprint = pg.Footprint!;
        Assert.NotNull(footprint.ThrowawayRoot);
        Assert.True(Directory.Exists(footprint.ThrowawayRoot));

        // A client that stays connected: a smart shutdown (SIGTERM) would wait for it until DCP gave up and killed.
        var connectionString = await pg.ConnectionStringAsync(ct);
        await using var idleClient = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await idleClient.OpenAsync(ct);

        var (stopped, disposed, gone) = await pg.StopAsync(ct);
        output.WriteLine($"StopAsync {stopped.TotalSeconds:0.0} s, then DisposeAsync {disposed.TotalSeconds:0.0} s, then every server process and the throwaway folder gone after {gone.TotalSeconds:0.0} s more");

        var log = await File.ReadAllTextAsync(Path.Combine(logDirectory, "postgres.log"), ct);
        output.WriteLine(log);
        Assert.Contains("received fast shutdown request", log, StringComparison.Ordinal);
        Assert.Contains("database system is shut down", log, StringComparison.Ordinal);
        Assert.DoesNotContain("received smart shutdown request", log, StringComparison.Ordinal);
        Assert.DoesNotContain("received immediate shutdown request", log, StringComparison.Ordinal);

        await using var command = new NpgsqlCommand("SELECT 1", idleClient);
        var cut = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync(ct));
        Assert.Equal(PostgresErrorCodes.AdminShutdown, cut.SqlState);
        Assert.Equal("terminating connection due to administrator command", cut.MessageText);
    }
}
