using System.Diagnostics;
using Npgsql;
using PgVideoChat.LocalPostgres.Tests.Support;
using Xunit.Abstractions;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class StartupTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task ServerAndDatabaseBecomeHealthyWithTheirSettingsListeningOnLoopbackWithScramPasswords()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        await using var builder = DistributedApplicationTestingBuilder.Create();
        var pg = builder.AddLocalPostgres("pg").WithSetting("wal_level", "logical");
        pg.AddDatabase("db");
        await using var app = builder.Build();

        var started = Stopwatch.StartNew();
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("db", ct);
        output.WriteLine($"StartAsync to database healthy: {started.Elapsed.TotalSeconds:0.0} s");
        var footprint = ServerFootprint.Capture(app, pg.Resource);

        foreach (var name in new[] { "pg", "db" })
        {
            Assert.True(app.ResourceNotifications.TryGetCurrentState(name, out var current));
            Assert.Equal(KnownResourceStates.Running, current.Snapshot.State?.Text);
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, current.Snapshot.HealthStatus);
        }

        var connectionString = await app.GetConnectionStringAsync("db", ct) ?? throw new InvalidOperationException("No connection string.");
        Assert.Equal("db", await Sql.ScalarAsync<string>(connectionString, "SELECT current_database()", ct));
        Assert.Equal("logical", await Sql.ScalarAsync<string>(connectionString, "SHOW wal_level", ct));
        Assert.Equal("127.0.0.1", await Sql.ScalarAsync<string>(connectionString, "SHOW listen_addresses", ct));
        Assert.Equal(pg.Resource.DataDirectory.Socket, await Sql.ScalarAsync<string>(connectionString, "SHOW unix_socket_directories", ct));
        Assert.Equal("scram-sha-256", await Sql.ScalarAsync<string>(connectionString, "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules", ct));
        Assert.StartsWith("SCRAM-SHA-256$", await Sql.ScalarAsync<string>(connectionString, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'", ct), StringComparison.Ordinal);

        var wrongPassword = new NpgsqlConnectionStringBuilder(connectionString) { Password = "not-the-password" }.ConnectionString;
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync<int>(wrongPassword, "SELECT 1", ct));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);

        await app.StopAsync(ct);
        await app.DisposeAsync();
        await footprint.AssertGoneWithinAsync(TimeSpan.FromSeconds(10));
    }
}
