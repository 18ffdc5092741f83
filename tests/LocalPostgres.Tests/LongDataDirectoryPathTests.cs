using PgVideoChat.LocalPostgres.Tests.Support;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class LongDataDirectoryPathTests
{
    [Fact(Timeout = 120_000)]
    public async Task ADataDirectoryTooDeepForAUnixSocketStartsWithTcpOnly()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        using var scratch = new ScratchDirectory();

        // sun_path holds 108 bytes on Linux (104 on macOS): "<data>/.s.PGSQL.<port>" does not fit under this one.
        var data = Path.Combine(scratch.Path, "projects", "a-developer-s-rather-long-checkout-folder-name", "postgres-data");
        Assert.True(data.Length + "/.s.PGSQL.65535".Length > 107, data);

        await using var pg = await LocalPostgresApp.StartAsync(ct, server: s => s.WithDataDirectory(data));
        var connectionString = await pg.ConnectionStringAsync(ct);
        Assert.Equal(data, await Sql.ScalarAsync<string>(connectionString, "SHOW data_directory", ct));
        Assert.Equal(string.Empty, await Sql.ScalarAsync<string>(connectionString, "SHOW unix_socket_directories", ct));

        await pg.StopAsync(ct);
    }
}
