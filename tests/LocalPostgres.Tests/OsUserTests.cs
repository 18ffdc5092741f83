using System.Globalization;
using PgVideoChat.Hosting.LocalPostgres;
using PgVideoChat.LocalPostgres.Tests.Support;

namespace PgVideoChat.LocalPostgres.Tests;

/// <summary>
/// Postgres refuses to run as root, so a root AppHost runs initdb and the server as the postgres OS user and any other
/// AppHost runs them as itself. These machines run the tests as root: the root path runs end to end, the non-root
/// one through the pieces that take the user to run as (a whole non-root app model cannot run here: /root, which
/// holds the NuGet packages and DCP, is closed to other users).
/// </summary>
public sealed class OsUserTests
{
    private static uint ServerUid => OsAccounts.IsRoot ? OsAccounts.UidOf(LocalPostgresServerResource.SuperUser) : OsAccounts.CurrentUid;

    [Fact(Timeout = 120_000)]
    public async Task InitdbAndTheServerRunAsThePostgresUserUnderRootAndAsTheAppHostsUserOtherwise()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        await using var pg = await LocalPostgresApp.StartAsync(ct);
        var footprint = pg.Footprint!;

        Assert.Equal(OsAccounts.IsRoot ? LocalPostgresServerResource.SuperUser : null, pg.Resource.RunAsUser);
        var data = pg.Resource.DataDirectory.Data;

        // initdb writes PG_VERSION, the server postmaster.pid: their owners are the users those two ran as.
        Assert.Equal(ServerUid, OsAccounts.OwnerOf(data));
        Assert.Equal(ServerUid, OsAccounts.OwnerOf(Path.Combine(data, "PG_VERSION")));
        Assert.Equal(ServerUid, OsAccounts.OwnerOf(Path.Combine(data, "postmaster.pid")));
        Assert.Equal(ServerUid, OsAccounts.OwnerOf(pg.Resource.DataDirectory.Socket));
        Assert.Equal(ServerUid, footprint.Postmaster.Uid);
        Assert.All(footprint.Children, child => Assert.Equal(ServerUid, child.Uid));

        // The wrapper stays the AppHost's user: it is what DCP signals, and the throwaway folder is the AppHost's.
        Assert.Equal(OsAccounts.CurrentUid, footprint.Wrapper?.Uid);
        Assert.Equal(OsAccounts.CurrentUid, OsAccounts.OwnerOf(pg.Resource.DataDirectory.Root));

        await pg.StopAsync(ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task ToolsRunAsTheAppHostsOwnUserWhenThereIsNoUserToRunAs()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (exitCode, output) = await ToolProcess.RunAsync("id", ["-u"], runAsUser: null, "/", timeout.Token);
        Assert.Equal(0, exitCode);
        Assert.Equal(OsAccounts.CurrentUid.ToString(CultureInfo.InvariantCulture), Assert.Single(output));

        if (OsAccounts.IsRoot)
        {
            (exitCode, output) = await ToolProcess.RunAsync("id", ["-u"], LocalPostgresServerResource.SuperUser, "/", timeout.Token);
            Assert.Equal(0, exitCode);
            Assert.Equal(OsAccounts.UidOf(LocalPostgresServerResource.SuperUser).ToString(CultureInfo.InvariantCulture), Assert.Single(output));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task DirectoriesAreMadeWithTheModeForTheUserToRunAsOrForTheAppHostsOwn()
    {
        using var scratch = new ScratchDirectory();
        var own = Path.Combine(scratch.Path, "own");
        await Task.Run(() => OsUser.CreateDirectory(own, user: null, "0700"));
        Assert.Equal(OsAccounts.CurrentUid, OsAccounts.OwnerOf(own));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(own));

        if (OsAccounts.IsRoot)
        {
            var server = Path.Combine(scratch.Path, "server");
            await Task.Run(() => OsUser.CreateDirectory(server, LocalPostgresServerResource.SuperUser, "0700"));
            Assert.Equal(OsAccounts.UidOf(LocalPostgresServerResource.SuperUser), OsAccounts.OwnerOf(server));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task InitdbWithoutAUserToRunAsMakesTheClusterAsTheAppHostsUserOrIsRefusedForRoot()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var scratch = new ScratchDirectory();
        var data = Path.Combine(scratch.Path, "data");
        var initialize = () => DataDirectoryInitializer.InitializeAsync(
            PostgresBinaries.Locate(), data, data, runAsUser: null, "a-password", throwaway: true, timeout.Token);

        if (OsAccounts.IsRoot)
        {
            // Why a root AppHost needs the postgres OS user: initdb itself refuses root.
            var refused = await Assert.ThrowsAsync<DistributedApplicationException>(initialize);
            Assert.Contains("initdb failed", refused.Message, StringComparison.Ordinal);
            Assert.Contains("root", refused.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(await initialize());
            Assert.Equal(OsAccounts.CurrentUid, OsAccounts.OwnerOf(Path.Combine(data, "PG_VERSION")));
        }
    }
}
