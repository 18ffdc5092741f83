using PgVideoChat.Hosting;
using PgVideoChat.Hosting.Testing;

namespace PgVideoChat.LoadTests.Target;

/// <summary>
/// The system under load: either the app model (Postgres with wal_level=logical, the relay, the web client) started
/// here through the AppHost's test entry point, or a relay that already runs at a URL.
/// </summary>
public sealed class LoadTarget : IAsyncDisposable
{
    public const string RelayResource = "relay";
    public const string PostgresResource = "postgres";
    public const string DatabaseResource = "videochat";

    private readonly TargetOptions _options;

    private LoadTarget(TargetOptions options, Uri relayUri, string? connectionString, DistributedApplication? app)
    {
        _options = options;
        RelayUri = relayUri;
        ConnectionString = connectionString;
        App = app;
    }

    public Uri RelayUri { get; }

    public string? ConnectionString { get; }

    /// <summary>The app model when this runner started it.</summary>
    public DistributedApplication? App { get; }

    public string Description => App is null ? $"relay at {RelayUri} (already running)" : $"app model started by the runner (relay at {RelayUri})";

    /// <summary>The relay's process (for /proc), read fresh each time because a restart changes it.</summary>
    public int? RelayPid => App is null ? _options.RelayPid : App.ResourceNotifications.TryGet(RelayResource)?.ProcessId ?? App.ResourceNotifications.TryGet(RelayResource + "-0")?.ProcessId;

    public int? PostgresPid => App is null ? _options.PostgresPid : App.ResourceNotifications.TryGet(PostgresResource)?.ProcessId;

    public static async Task<LoadTarget> OpenAsync(TargetOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.RelayUrl is { } url)
        {
            log($"target: relay at {url}{(options.ConnectionString is null ? " (no --connection-string: slot lag from the relay's /metrics only)" : string.Empty)}");
            return new LoadTarget(options, url, options.ConnectionString, null);
        }

        log("starting the app model (Postgres, relay, web client) through the AppHost's test entry point…");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([.. options.AppHostArgs], timeout.Token);
        var app = await builder.BuildAsync(timeout.Token);
        try
        {
            await app.StartAsync(timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(RelayResource, timeout.Token);
            var connectionString = await app.GetConnectionStringAsync(DatabaseResource, timeout.Token);
            var target = new LoadTarget(options, app.GetEndpoint(RelayResource), connectionString, app);
            log($"app model up: relay {target.RelayUri} (pid {target.RelayPid}), postgres pid {target.PostgresPid}");
            return target;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the relay of the app model (the baseline measures Postgres without it).</summary>
    public async Task<bool> StopRelayAsync()
    {
        if (App is null)
        {
            return false;
        }

        await App.StopResourceAsync(RelayResource);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}
