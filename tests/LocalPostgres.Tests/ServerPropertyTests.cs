using PgVideoChat.Hosting.LocalPostgres;
using PgVideoChat.LocalPostgres.Tests.Support;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class ServerPropertyTests
{
    [Fact(Timeout = 120_000)]
    public async Task PidPropertyIsThePostmasterOfTheDataDirectoryStartedByTheWrapper()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        await using var pg = await LocalPostgresApp.StartAsync(ct);
        var footprint = pg.Footprint!;

        var postmaster = footprint.Postmaster;
        Assert.Equal("postgres", Path.GetFileName(postmaster.Arguments[0]));
        Assert.Equal(pg.Resource.Binaries.Postgres, postmaster.Arguments[0]);
        Assert.Equal(pg.Resource.DataDirectory.Data, postmaster.Arguments[postmaster.Arguments.ToList().IndexOf("-D") + 1]);
        var postmasterPidFile = await File.ReadAllLinesAsync(Path.Combine(pg.Resource.DataDirectory.Data, "postmaster.pid"), ct);
        Assert.Equal(postmaster.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), postmasterPidFile[0]);

        // setpriv execs in place, so the postmaster's parent is the wrapper script DCP started.
        Assert.NotNull(footprint.Wrapper);
        Assert.Equal("/bin/sh", footprint.Wrapper.Arguments[0]);
        Assert.NotEmpty(footprint.Children);

        Assert.True(pg.App.ResourceNotifications.TryGetCurrentState("pg", out var current));
        Assert.Equal(pg.Resource.DataDirectory.Data, current.Snapshot.Properties.Single(p => p.Name == LocalPostgresLifecycle.DataDirectoryProperty).Value);

        await pg.StopAsync(ct);
    }
}
