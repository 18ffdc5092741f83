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

        await using var firstBuilder = DistributedApplicationTestingBuilder.Create();
        var first = firstBuilder.AddLocalPostgres("pg").WithDataDirectory(data);
        first.AddDatabase("db");
        await using var firstApp = firstBuilder.Build();
        await firstApp.StartAsync(ct);
        await firstApp.ResourceNotifications.WaitForResourceHealthyAsync("db", ct);
        var firstFootprint = ServerFootprint.Capture(firstApp, first.Resource);

        await using var secondBuilder = DistributedApplicationTestingBuilder.Create();
        var second = secondBuilder.AddLocalPostgres("pg").WithDataDirectory(data);
        second.AddDatabase("db");
        await using var secondApp = secondBuilder.Build();
        var secondStarted = Stopwatch.StartNew();
        await secondApp.StartAsync(ct);
        await using var secondLogs = ResourceLogRecorder.Start(secondApp, second.Resource);
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
        Assert.Equal(firstFootprint.Postmaster.Pid, ServerFootprint.PostmasterPid(firstApp, "pg"));
        var connectionString = await firstApp.GetConnectionStringAsync("db", ct) ?? throw new InvalidOperationException("No connection string.");
        Assert.Equal(data, await Sql.ScalarAsync<string>(connectionString, "SHOW data_directory", ct));

        await firstApp.StopAsync(ct);
        await firstApp.DisposeAsync();
        await firstFootprint.AssertGoneWithinAsync(TimeSpan.FromSeconds(10));
    }
}
