using System.Diagnostics;
using PgVideoChat.LocalPostgres.Tests.Support;
using Xunit.Abstractions;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class DataDirectoryInUseTests(ITestOutputHelper output)
{
    [Fact(Timeout = 180_000)]
    public async Task SecondAppModelOnARunningDataDirectoryFailsToStartWithTheReasonWhileTheFirstKeepsRunning()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        using var scratch = new ScratchDirectory();
        var data = Path.Combine(scratch.Path, "data");

        await using var first = await LocalPostgresApp.StartAsync(ct, server: s => s.WithDataDirectory(data));
        var firstFootprint = first.Footprint!;

        var secondStarted = Stopwatch.StartNew();
        await using var second = await LocalPostgresApp.StartAsync(ct, server: s => s.WithDataDirectory(data), recordLogs: true, waitForHealthy: false);
        var (secondApp, secondLogs) = (second.App, second.Logs!);
        await secondApp.ResourceNotifications.WaitForResourceAsync("pg", KnownResourceStates.FailedToStart, ct);
        output.WriteLine($"second app's StartAsync to FailedToStart: {secondStarted.Elapsed.TotalSeconds:0.0} s");
        var reason = await secondLogs.WaitForLineAsync("is in use by a running Postgres", ct);
        output.WriteLine(reason);
        Assert.Contains(data, reason, StringComparison.Ordinal);
        Assert.Contains($"pid {firstFootprint.Postmaster.Pid}", reason, StringComparison.Ordinal);
        Assert.Contains("use another data directory", reason, StringComparison.Ordinal);
        await secondApp.ResourceNotifications.WaitForResourceAsync("db", KnownResourceStates.FailedToStart, ct);

        await secondApp.StopAsync(ct);
        await secondApp.DisposeAsync();

        // The first server was neither stopped nor touched: same postmaster, still answering.
        Assert.True(firstFootprint.Postmaster.IsAlive);
        Assert.Equal(firstFootprint.Postmaster.Pid, ServerFootprint.PostmasterPid(first.App, "pg"));
        Assert.Equal(data, await Sql.ScalarAsync<string>(await first.ConnectionStringAsync(ct), "SHOW data_directory", ct));

        await first.StopAsync(ct);
    }
}
