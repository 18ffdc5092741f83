using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PgVideoChat.LocalPostgres.Tests.Support;
using Xunit.Abstractions;

namespace PgVideoChat.LocalPostgres.Tests;

public sealed class RestartTests(ITestOutputHelper output)
{
    [Fact(Timeout = 180_000)]
    public async Task RestartingTheServerKeepsItsDataAndBringsTheDatabaseBackToHealthy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        await using var pg = await LocalPostgresApp.StartAsync(ct, recordLogs: true);
        var (app, logs, before) = (pg.App, pg.Logs!, pg.Footprint!);
        var connectionString = await pg.ConnectionStringAsync(ct);
        await Sql.ExecuteAsync(connectionString, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written before the restart')", ct);

        var serverStates = new List<string>();
        var databaseStates = new List<string>();
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = Task.WhenAll(
            WatchStatesAsync(app, "pg", serverStates, stopWatching.Token),
            WatchStatesAsync(app, "db", databaseStates, stopWatching.Token));

        var restartedAt = DateTime.UtcNow;
        var restarting = Stopwatch.StartNew();
        var result = await app.ResourceCommands.ExecuteCommandAsync("pg", KnownResourceCommands.RestartCommand, ct);
        Assert.True(result.Success, result.Message);
        await app.ResourceNotifications.WaitForResourceAsync("pg", e => IsHealthy(e) && PostmasterPidOf(e) is { } pid && pid != before.Postmaster.Pid, ct);
        await app.ResourceNotifications.WaitForResourceAsync("db", e => IsHealthy(e) && e.Snapshot.StartTimeStamp > restartedAt, ct);
        output.WriteLine($"restart command to database healthy again: {restarting.Elapsed.TotalSeconds:0.0} s");
        await stopWatching.CancelAsync();
        await watching;

        // The database followed its server down and back up.
        output.WriteLine($"server states: {string.Join(" → ", serverStates.Select(s => $"'{s}'"))}");
        output.WriteLine($"database states: {string.Join(" → ", databaseStates.Select(s => $"'{s}'"))}");
        Assert.Contains(databaseStates, s => s != KnownResourceStates.Running);
        Assert.Equal(KnownResourceStates.Running, databaseStates[^1]);

        // Same data directory and data, a new postmaster; the old one made a fast shutdown.
        Assert.False(before.Postmaster.IsAlive);
        Assert.Equal("written before the restart", await Sql.ScalarAsync<string>(connectionString, "SELECT body FROM notes", ct));
        await logs.WaitForLineAsync("received fast shutdown request", ct);
        Assert.Single(logs.Lines, l => l.Contains("initdb made a PostgreSQL", StringComparison.Ordinal));

        await pg.StopAsync(ct);
    }

    private static bool IsHealthy(ResourceEvent e) =>
        e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy;

    private static int? PostmasterPidOf(ResourceEvent e) =>
        e.Snapshot.Properties.FirstOrDefault(p => p.Name == Hosting.LocalPostgres.LocalPostgresLifecycle.PostmasterPidProperty)?.Value is string text
            && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : null;

    private static async Task WatchStatesAsync(DistributedApplication app, string resourceName, List<string> states, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync(cancellationToken))
            {
                if (update.Resource.Name == resourceName && update.Snapshot.State?.Text is { } state && (states.Count == 0 || states[^1] != state))
                {
                    states.Add(state);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
