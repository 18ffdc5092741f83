using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using PgVideoChat.TestSupport;

namespace PgVideoChat.LoadTests.Target;

/// <summary>
/// One relay instance of the target: its own URL (for its <c>/metrics</c>, never through the front door), its
/// process (for <c>/proc</c>, read fresh each time because a restart changes it) and its replication slot.
/// </summary>
public sealed record RelayInstance(string Name, Uri Url, Func<int?> Pid, string? SlotName);

/// <summary>
/// The system under load: either the app model (Postgres with wal_level=logical, one or more relays, the front door
/// when there are several, the web client) started here through the AppHost's test entry point, or a relay that
/// already runs at a URL.
/// </summary>
public sealed class LoadTarget : IAsyncDisposable
{
    public const string RelayResource = "relay";
    public const string FrontDoorResource = "frontdoor";
    public const string PostgresResource = "postgres";
    public const string DatabaseResource = "videochat";

    private readonly TargetOptions _options;

    private LoadTarget(TargetOptions options, Uri relayUri, IReadOnlyList<RelayInstance> relays, string? connectionString, DistributedApplication? app, bool frontDoor)
    {
        _options = options;
        RelayUri = relayUri;
        Relays = relays;
        ConnectionString = connectionString;
        App = app;
        HasFrontDoor = frontDoor;
    }

    /// <summary>Where clients sign in and open their WebSockets: the front door with several relays, else the relay.</summary>
    public Uri RelayUri { get; }

    /// <summary>Every relay instance (one with <c>--relay-url</c>), each with its own URL, process and slot.</summary>
    public IReadOnlyList<RelayInstance> Relays { get; }

    public int RelayCount => Relays.Count;

    /// <summary>True when clients go through the front door (<c>--Relay:Replicas</c> &gt; 1).</summary>
    public bool HasFrontDoor { get; }

    public string? ConnectionString { get; }

    /// <summary>The app model when this runner started it.</summary>
    public DistributedApplication? App { get; }

    public string Description => App is null
        ? $"relay at {RelayUri} (already running)"
        : HasFrontDoor
            ? $"app model started by the runner ({RelayCount} relays behind the front door at {RelayUri})"
            : $"app model started by the runner (relay at {RelayUri})";

    /// <summary>The first relay's process (for /proc); see <see cref="Relays"/> for all of them.</summary>
    public int? RelayPid => Relays.Count > 0 ? Relays[0].Pid() : null;

    /// <summary>The front door's process; null without one.</summary>
    public int? FrontDoorPid => App is not null && HasFrontDoor ? App.GetProcessId(FrontDoorResource) : null;

    /// <summary>The postmaster (its backends are its children, which <see cref="Monitoring.ProcStats"/> sums).</summary>
    public int? PostgresPid => App is null ? _options.PostgresPid : App.GetProcessId(PostgresResource);

    /// <summary>
    /// The slots the relays own, to watch exactly those in <c>pg_replication_slots</c>; null (every
    /// <c>pgvideochat_*</c> slot) when the relays' instance ids are not known (<c>--relay-url</c>).
    /// </summary>
    public IReadOnlyList<string>? SlotNames => App is null ? null : [.. Relays.Select(r => r.SlotName!)];

    public static async Task<LoadTarget> OpenAsync(TargetOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.RelayUrl is { } url)
        {
            log($"target: relay at {url}{(options.ConnectionString is null ? " (no --connection-string: slot lag from the relay's /metrics only)" : string.Empty)}");
            var pid = options.RelayPid;
            return new LoadTarget(options, url, [new RelayInstance(RelayResource, url, () => pid, null)], options.ConnectionString, null, frontDoor: false);
        }

        log("starting the app model (Postgres, relays, web client) through the AppHost's test entry point…");
        // Every virtual user signs in from this one address, as a classroom never would: the per-address sign-in limit
        // would otherwise refuse a run of more than 15 calls. Given first, so that --apphost-arg can still set it.
        string[] args = ["--Relay:Limits:SignIn:Burst=1000000", "--Relay:Limits:SignIn:Tokens=1000000", .. options.AppHostArgs];
        var app = await AppModel.StartAsync<Projects.AppHost>(
            args,
            model => [.. RelayNames(model), .. model.Resources.Any(r => r.Name == FrontDoorResource) ? [FrontDoorResource] : Array.Empty<string>()],
            configure: null,
            AppModel.DefaultStartTimeout,
            cancellationToken);
        try
        {
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            var names = RelayNames(model);
            var frontDoor = model.Resources.Any(r => r.Name == FrontDoorResource);
            if (names.Count == 0)
            {
                throw new InvalidOperationException($"The app model has no '{RelayResource}' resource (nor '{RelayResource}-0' …).");
            }

            if (names.Count > 1 && !frontDoor)
            {
                throw new InvalidOperationException($"The app model runs {names.Count} relays but no '{FrontDoorResource}' resource to spread clients over them.");
            }

            var connectionString = await app.GetConnectionStringAsync(DatabaseResource, cancellationToken);
            // The AppHost gives relay i the instance id relay-i (one relay included), and a relay's slot is
            // pgvideochat_ + its instance id (src/Relay/Replication/ReplicationSlot.cs).
            var relays = names.Select((name, index) => new RelayInstance(
                name,
                app.GetEndpoint(name),
                () => app.GetProcessId(name),
                string.Create(CultureInfo.InvariantCulture, $"pgvideochat_relay_{index}"))).ToList();
            var target = new LoadTarget(options, frontDoor ? app.GetEndpoint(FrontDoorResource) : relays[0].Url, relays, connectionString, app, frontDoor);
            log(frontDoor
                ? $"app model up: front door {target.RelayUri} (pid {target.FrontDoorPid}) over {string.Join(", ", relays.Select(r => $"{r.Name} {r.Url} (pid {r.Pid()})"))}; postgres pid {target.PostgresPid}"
                : $"app model up: relay {target.RelayUri} (pid {target.RelayPid}), postgres pid {target.PostgresPid}");
            return target;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The relays in index order: <c>relay</c> when the AppHost runs one, <c>relay-0</c> … <c>relay-(N-1)</c> with
    /// <c>--Relay:Replicas=N</c> (separate resources: Aspire's replicas would share one name and one slot).
    /// </summary>
    private static List<string> RelayNames(DistributedApplicationModel model)
    {
        var projects = model.Resources.OfType<ProjectResource>().Select(p => p.Name).ToList();
        if (projects.Contains(RelayResource))
        {
            return [RelayResource];
        }

        var prefix = RelayResource + "-";
        return [.. projects
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderBy(name => int.Parse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture))];
    }

    /// <summary>Stops every relay of the app model (the baseline measures Postgres without them).</summary>
    public async Task<bool> StopRelayAsync()
    {
        if (App is null)
        {
            return false;
        }

        if (HasFrontDoor)
        {
            await App.StopResourceAsync(FrontDoorResource);
        }

        foreach (var relay in Relays)
        {
            await App.StopResourceAsync(relay.Name);
        }

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
