using PgVideoChat.LocalPostgres.Tests.Support;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class ReferencingResourceTests
{
    [Fact(Timeout = 120_000)]
    public async Task ExecutableReferencingTheDatabaseAndServerGetsTheirConnectionStringsAndConnectionProperties()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        using var scratch = new ScratchDirectory();
        var environmentFile = Path.Combine(scratch.Path, "environment");
        await using var pg = await LocalPostgresApp.StartAsync(ct, around: (builder, server, db) =>
            builder.AddExecutable("client", "/bin/sh", scratch.Path, "-c", $"env > '{environmentFile}'")
                .WithReference(db)
                .WithReference(server)
                .WaitFor(db));
        var app = pg.App;
        await app.ResourceNotifications.WaitForResourceAsync("client", KnownResourceStates.TerminalStates, ct);

        var environment = (await File.ReadAllLinesAsync(environmentFile, ct))
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1]);
        var password = await pg.Resource.PasswordParameter.GetValueAsync(ct);
        var port = pg.Resource.PrimaryEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // What Aspire 13.6.5 injects for a reference: the connection string, and each connection property as
        // <RESOURCE>_<PROPERTY> (the server's Uri replaced by the database's).
        Assert.Equal(await app.GetConnectionStringAsync("db", ct), environment["ConnectionStrings__db"]);
        Assert.Equal($"Host=localhost;Port={port};Username=postgres;Password={password};Database=db", environment["ConnectionStrings__db"]);
        Assert.Equal("localhost", environment["DB_HOST"]);
        Assert.Equal(port, environment["DB_PORT"]);
        Assert.Equal("postgres", environment["DB_USERNAME"]);
        Assert.Equal(password, environment["DB_PASSWORD"]);
        Assert.Equal("db", environment["DB_DATABASENAME"]);
        Assert.Equal($"postgresql://postgres:{password}@localhost:{port}/db", environment["DB_URI"]);
        Assert.Equal("db", await Sql.ScalarAsync<string>(environment["ConnectionStrings__db"], "SELECT current_database()", ct));

        // The server's: the same names as Aspire.Hosting.PostgreSQL's server, with no database.
        Assert.Equal($"Host=localhost;Port={port};Username=postgres;Password={password}", environment["ConnectionStrings__pg"]);
        Assert.Equal("localhost", environment["PG_HOST"]);
        Assert.Equal(port, environment["PG_PORT"]);
        Assert.Equal("postgres", environment["PG_USERNAME"]);
        Assert.Equal(password, environment["PG_PASSWORD"]);
        Assert.Equal($"postgresql://postgres:{password}@localhost:{port}", environment["PG_URI"]);
        Assert.DoesNotContain("PG_DATABASENAME", environment.Keys);

        await pg.StopAsync(ct);
    }
}
