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
        await using var pg = await LocalPostgresApp.StartAsync(ct, server: s => s.WithSetting("wal_level", "logical"));
        var app = pg.App;
        output.WriteLine($"StartAsync to database healthy: {pg.StartTime.TotalSeconds:0.0} s");

        foreach (var name in new[] { "pg", "db" })
        {
            Assert.True(app.ResourceNotifications.TryGetCurrentState(name, out var current));
            Assert.Equal(KnownResourceStates.Running, current.Snapshot.State?.Text);
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, current.Snapshot.HealthStatus);
        }

        var connectionString = await pg.ConnectionStringAsync(ct);
        Assert.Equal("db", await Sql.ScalarAsync<string>(connectionString, "SELECT current_database()", ct));
        Assert.Equal("logical", await Sql.ScalarAsync<string>(connectionString, "SHOW wal_level", ct));
        Assert.Equal("127.0.0.1", await Sql.ScalarAsync<string>(connectionString, "SHOW listen_addresses", ct));
        Assert.Equal(pg.Resource.DataDirectory.Socket, await Sql.ScalarAsync<string>(connectionString, "SHOW unix_socket_directories", ct));
        Assert.Equal("scram-sha-256", await Sql.ScalarAsync<string>(connectionString, "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules", ct));
        Assert.StartsWith("SCRAM-SHA-256$", await Sql.ScalarAsync<string>(connectionString, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'", ct), StringComparison.Ordinal);

        var wrongPassword = new NpgsqlConnectionStringBuilder(connectionString) { Password = "not-the-password" }.ConnectionString;
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync<int>(wrongPassword, "SELECT 1", ct));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);

        await pg.StopAsync(ct);
    }
}
