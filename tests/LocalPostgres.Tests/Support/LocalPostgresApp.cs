using System.Diagnostics;
using Aspire.Hosting.Testing;
using PgVideoChat.Hosting.LocalPostgres;

namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>
/// An app model of one local server <c>pg</c> with one database <c>db</c>, started and (by default) waited for until
/// the database is healthy, with the server's footprint captured. <see cref="StopAsync"/> stops it and asserts that
/// every server process (and the throwaway folder) is gone; disposal without that stop only disposes.
/// </summary>
internal sealed class LocalPostgresApp : IAsyncDisposable
{
    public const string ServerName = "pg";
    public const string DatabaseName = "db";

    private readonly IDistributedApplicationTestingBuilder _builder;
    private bool _stopped;

    private LocalPostgresApp(
        IDistributedApplicationTestingBuilder builder,
        IResourceBuilder<LocalPostgresServerResource> server,
        IResourceBuilder<LocalPostgresDatabaseResource> database,
        DistributedApplication app)
    {
        _builder = builder;
        Server = server;
        Database = database;
        App = app;
    }

    public IResourceBuilder<LocalPostgresServerResource> Server { get; }

    public IResourceBuilder<LocalPostgresDatabaseResource> Database { get; }

    public LocalPostgresServerResource Resource => Server.Resource;

    public DistributedApplication App { get; }

    /// <summary>The server's resource log from just after the start (null unless asked for).</summary>
    public ResourceLogRecorder? Logs { get; private set; }

    /// <summary>From <c>StartAsync</c> to the database healthy (zero when not waited for).</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>Captured once the database is healthy (null when not waited for).</summary>
    public ServerFootprint? Footprint { get; private set; }

    /// <param name="server">Configures the server before its database is added (settings, data directory).</param>
    /// <param name="around">Adds resources around the server and its database (a client that references them).</param>
    /// <param name="recordLogs">Records the server's resource log from the start (<see cref="Logs"/>).</param>
    /// <param name="waitForHealthy">Waits for the database to be healthy and captures the footprint.</param>
    public static async Task<LocalPostgresApp> StartAsync(
        CancellationToken cancellationToken,
        Action<IResourceBuilder<LocalPostgresServerResource>>? server = null,
        Action<IDistributedApplicationTestingBuilder, IResourceBuilder<LocalPostgresServerResource>, IResourceBuilder<LocalPostgresDatabaseResource>>? around = null,
        bool recordLogs = false,
        bool waitForHealthy = true)
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        LocalPostgresApp? started = null;
        try
        {
            var pg = builder.AddLocalPostgres(ServerName);
            server?.Invoke(pg);
            var db = pg.AddDatabase(DatabaseName);
            around?.Invoke(builder, pg, db);
            started = new LocalPostgresApp(builder, pg, db, builder.Build());

            var clock = Stopwatch.StartNew();
            await started.App.StartAsync(cancellationToken);
            if (recordLogs)
            {
                started.Logs = ResourceLogRecorder.Start(started.App, pg.Resource);
            }

            if (waitForHealthy)
            {
                await started.App.ResourceNotifications.WaitForResourceHealthyAsync(DatabaseName, cancellationToken);
                started.StartTime = clock.Elapsed;
                started.Footprint = ServerFootprint.Capture(started.App, pg.Resource);
            }

            return started;
        }
        catch
        {
            if (started is not null)
            {
                await started.DisposeAsync();
            }
            else
            {
                await builder.DisposeAsync();
            }

            throw;
        }
    }

    public async Task<string> ConnectionStringAsync(CancellationToken cancellationToken)
        => await App.GetConnectionStringAsync(DatabaseName, cancellationToken) ?? throw new InvalidOperationException("The database has no connection string.");

    /// <summary>Stops and disposes the app, then asserts the server's footprint is gone within 10 s; says how long each took.</summary>
    public async Task<(TimeSpan Stop, TimeSpan Dispose, TimeSpan Gone)> StopAsync(CancellationToken cancellationToken)
    {
        // Captured now, not at the start: after a restart it is the new postmaster that must be gone.
        var footprint = ServerFootprint.Capture(App, Resource);
        var clock = Stopwatch.StartNew();
        await App.StopAsync(cancellationToken);
        var stop = clock.Elapsed;
        await DisposeAsync();
        var dispose = clock.Elapsed - stop;
        var gone = await footprint.AssertGoneWithinAsync(TimeSpan.FromSeconds(10));
        return (stop, dispose, gone);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (Logs is not null)
        {
            await Logs.DisposeAsync();
        }

        await App.DisposeAsync();
        await _builder.DisposeAsync();
    }
}
