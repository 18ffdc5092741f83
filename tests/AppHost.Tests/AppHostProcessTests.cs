using System.Diagnostics;
using PgVideoChat.TestSupport;
using Xunit.Abstractions;

namespace PgVideoChat.AppHost.Tests;

/// <summary>
/// The AppHost as a user runs it, stopped with Ctrl+C or SIGTERM, or dying abruptly: nothing it started may outlive
/// it. The limits are those measured on a 2-core machine (docs: the Aspire notes), with room for a busy CI box:
/// resources end ~5 s after Ctrl+C and ~13 s after the AppHost is SIGKILLed (DCP notices its AppHost is gone);
/// a few DCP processes of their own take up to ~25 s.
/// </summary>
public sealed class AppHostProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ResourcesAfterStopLimit = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ResourcesAfterKillLimit = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan EverythingLimit = TimeSpan.FromSeconds(40);

    [Theory]
    [InlineData(RunningAppHost.SIGINT)]
    [InlineData(RunningAppHost.SIGTERM)]
    public async Task Ctrl_C_or_SIGTERM_stops_every_resource_frees_the_ports_and_removes_the_data(int signal)
    {
        await using var apphost = await RunningAppHost.StartAsync();
        var (resources, ports, dataDirectory) = Inventory(apphost);
        var clock = Stopwatch.StartNew();
        apphost.Signal(signal);
        await Task.WhenAny(apphost.Process.WaitForExitAsync(), Task.Delay(ExitLimit));

        Assert.True(apphost.Process.HasExited, $"the AppHost still runs {ExitLimit.TotalSeconds:F0} s after signal {signal}:\n{apphost.Output}");
        var exited = clock.Elapsed;
        Assert.True(await ProcFs.WaitUntilGoneAsync(resources, ResourcesAfterStopLimit - clock.Elapsed, CancellationToken.None), Survivors("resource", resources, clock, apphost));
        var resourcesGone = clock.Elapsed;
        await EverythingGoneAsync(apphost, clock);
        Assert.All(ports, port => Assert.True(RunningAppHost.IsFree(port), $"port {port} is still taken after the AppHost stopped"));
        Assert.False(Directory.Exists(dataDirectory), $"the throwaway data directory {dataDirectory} is still there");
        output.WriteLine($"signal {signal}: AppHost exited after {exited.TotalSeconds:F1} s, resources gone after {resourcesGone.TotalSeconds:F1} s, everything after {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Everything_an_AppHost_started_stops_when_it_is_killed_and_its_data_is_removed_by_the_next_start()
    {
        await using var apphost = await RunningAppHost.StartAsync();
        var (resources, ports, dataDirectory) = Inventory(apphost);
        var clock = Stopwatch.StartNew();
        apphost.Signal(RunningAppHost.SIGKILL);
        await apphost.Process.WaitForExitAsync();

        Assert.True(await ProcFs.WaitUntilGoneAsync(resources, ResourcesAfterKillLimit, CancellationToken.None), Survivors("resource", resources, clock, apphost));
        var resourcesGone = clock.Elapsed;
        await EverythingGoneAsync(apphost, clock);
        output.WriteLine($"SIGKILL: resources gone after {resourcesGone.TotalSeconds:F1} s, everything after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.All(ports, port => Assert.True(RunningAppHost.IsFree(port), $"port {port} is still taken after the AppHost died"));
        Assert.True(Directory.Exists(dataDirectory), "nothing was left to clean up: the test proves nothing");

        // The next local server of any AppHost sweeps the directories whose owner is gone.
        using var cts = new CancellationTokenSource(AppModel.DefaultStartTimeout);
        await using (var next = await AppModel.StartAsync<Projects.AppHost>([], ["postgres"], cts.Token))
        {
            Assert.False(Directory.Exists(Path.GetDirectoryName(dataDirectory)), $"the stale throwaway directory {Path.GetDirectoryName(dataDirectory)} is still there");
        }
    }

    /// <summary>The three resources' applications, the ports they listen on, and Postgres's data directory.</summary>
    private static (int[] Resources, int[] Ports, string DataDirectory) Inventory(RunningAppHost apphost)
    {
        var processes = apphost.Resources();
        Assert.True(processes is { Postmaster: not null, Relay: not null, WebClient: not null }, $"not every resource runs: {processes}");
        int[] resources = [processes.Postmaster!.Value, processes.Relay!.Value, processes.WebClient!.Value];
        int[] ports =
        [
            RunningAppHost.PostgresPort(resources[0]) ?? throw new InvalidOperationException("Postgres has no -c port= argument."),
            RunningAppHost.ListeningUrl(resources[1])!.Port,
            RunningAppHost.ListeningUrl(resources[2])!.Port,
            apphost.DashboardPort,
        ];
        var dataDirectory = RunningAppHost.DataDirectory(resources[0]) ?? throw new InvalidOperationException("Postgres has no -D argument.");
        return (resources, ports, dataDirectory);
    }

    /// <summary>Waits until no process the AppHost caused to run is left (DCP's own included).</summary>
    private static async Task EverythingGoneAsync(RunningAppHost apphost, Stopwatch clock)
    {
        while (apphost.Descendants is { Count: > 0 } left)
        {
            Assert.True(clock.Elapsed < EverythingLimit, Survivors("launched", left, clock, apphost));
            await Task.Delay(250);
        }
    }

    private static string Survivors(string kind, IEnumerable<int> pids, Stopwatch clock, RunningAppHost apphost) =>
        $"{kind} processes still run {clock.Elapsed.TotalSeconds:F1} s after the signal: {string.Join("; ", pids.Where(ProcFs.IsAlive).Select(ProcFs.Describe))}\nAppHost output:\n{apphost.Output}";
}
