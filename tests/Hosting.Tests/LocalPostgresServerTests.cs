using Npgsql;
using PgVideoChat.Hosting.Postgres;

namespace PgVideoChat.Hosting.Tests;

public sealed class LocalPostgresServerTests
{
    [Fact]
    public async Task Starts_with_logical_wal_on_loopback_and_removes_its_throwaway_data()
    {
        string dataDirectory;
        await using (var server = await LocalPostgresServer.StartAsync(new LocalPostgresOptions()))
        {
            dataDirectory = server.DataDirectory;
            Assert.True(server.IsThrowaway);
            await server.CreateDatabaseAsync("videochat");
            await server.CreateDatabaseAsync("videochat"); // idempotent, like Aspire's AddDatabase

            await using var connection = new NpgsqlConnection(server.GetConnectionString("videochat"));
            await connection.OpenAsync();
            Assert.Equal("logical", await Scalar(connection, "SHOW wal_level"));
            Assert.Equal("127.0.0.1", await Scalar(connection, "SHOW listen_addresses"));
            Assert.Equal("scram-sha-256", await Scalar(connection, "SHOW password_encryption"));
            Assert.NotEqual("-1", await Scalar(connection, "SHOW max_slot_wal_keep_size"));
            // The media write path's settings (LocalPostgresOptions.DefaultSettings says why).
            Assert.Equal("256kB", await Scalar(connection, "SHOW backend_flush_after"));
            Assert.Equal("off", await Scalar(connection, "SHOW wal_init_zero"));
            Assert.True(server.Password.Length >= 22);
        }

        Assert.False(Directory.Exists(dataDirectory));
    }

    [Fact]
    public async Task Refuses_a_wrong_password()
    {
        await using var server = await LocalPostgresServer.StartAsync(new LocalPostgresOptions());
        var wrong = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Password = "not-the-password" };
        await using var connection = new NpgsqlConnection(wrong.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Theory]
    [InlineData(PostgresShutdownMode.Fast)]
    [InlineData(PostgresShutdownMode.Immediate)]
    public async Task Restarts_on_the_same_port_and_keeps_data(PostgresShutdownMode mode)
    {
        await using var server = await LocalPostgresServer.StartAsync(new LocalPostgresOptions());
        var port = server.Port;
        await Execute(server.GetConnectionString(), "CREATE TABLE kept(x int); INSERT INTO kept VALUES (42)");

        await server.StopAsync(mode);
        Assert.Null(server.ProcessId);
        await server.StartAsync();

        Assert.Equal(port, server.Port);
        await using var connection = new NpgsqlConnection(Unpooled(server.GetConnectionString()));
        await connection.OpenAsync();
        Assert.Equal("42", await Scalar(connection, "SELECT x::text FROM kept"));
    }

    [Fact]
    public async Task A_taken_port_is_a_one_line_error_that_names_it()
    {
        await using var first = await LocalPostgresServer.StartAsync(new LocalPostgresOptions());
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(
            () => LocalPostgresServer.StartAsync(new LocalPostgresOptions { Port = first.Port }));
        Assert.Contains($"Port {first.Port} is taken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_persistent_data_directory_survives_and_keeps_its_password()
    {
        var root = Path.Combine(Path.GetTempPath(), "pgvideochat-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        if (!OperatingSystem.IsWindows())
        {
            // Postgres runs as its own OS user when the tests run as root: it must be able to reach the folder.
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var dataDirectory = Path.Combine(root, "data");
        try
        {
            string password;
            await using (var server = await LocalPostgresServer.StartAsync(new LocalPostgresOptions { DataDirectory = dataDirectory }))
            {
                password = server.Password;
                await Execute(server.GetConnectionString(), "CREATE TABLE kept(x int)");
            }

            Assert.True(File.Exists(Path.Combine(dataDirectory, "PG_VERSION")));
            await using (var again = await LocalPostgresServer.StartAsync(new LocalPostgresOptions { DataDirectory = dataDirectory }))
            {
                Assert.Equal(password, again.Password);
                await Execute(again.GetConnectionString(), "SELECT count(*) FROM kept");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_data_directory_in_use_is_a_one_line_error_that_says_so()
    {
        var root = Path.Combine(Path.GetTempPath(), "pgvideochat-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        try
        {
            var options = new LocalPostgresOptions { DataDirectory = Path.Combine(root, "data") };
            await using var first = await LocalPostgresServer.StartAsync(options);
            var error = await Assert.ThrowsAsync<DistributedApplicationException>(
                () => LocalPostgresServer.StartAsync(new LocalPostgresOptions { DataDirectory = options.DataDirectory }));
            Assert.Contains("data directory is in use", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Missing_binaries_are_a_one_line_error_with_the_fix()
    {
        var error = Assert.Throws<DistributedApplicationException>(() => PostgresBinaries.Locate("/nonexistent/bin"));
        Assert.Contains("Postgres__BinDirectory", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install postgresql", PostgresBinaries.MissingMessage, StringComparison.Ordinal);
    }

    private static async Task<string?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    // A restart breaks pooled connections; these tests look at the server, not at Npgsql's pool recovery.
    private static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    private static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
