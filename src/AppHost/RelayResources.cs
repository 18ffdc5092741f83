using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace PgVideoChat.AppHost;

/// <summary>The relays (<c>--Relay:Replicas=N</c>) and, with several, the front door in front of them.</summary>
internal static class RelayResources
{
    /// <summary>
    /// One relay is <c>relay</c>; N relays are <c>relay-0</c> … <c>relay-(N-1)</c>, separate resources rather than
    /// Aspire replicas, because each is a stable instance (its id names its replication slot) with its own URL
    /// (its /metrics, and the front door's health checks of each).
    /// </summary>
    public static IReadOnlyList<IResourceBuilder<ProjectResource>> AddRelays(
        this IDistributedApplicationBuilder builder, IResourceBuilder<IResourceWithConnectionString> database, IResourceBuilder<ParameterResource> signingKey)
    {
        var replicas = builder.Configuration.GetValue("Relay:Replicas", 1);
        if (replicas is < 1 or > 63)
        {
            throw new DistributedApplicationException(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Relay:Replicas is {replicas}; it must be 1–63 (a relay's shard is one bit of a bigint)."));
        }

        var relays = new List<IResourceBuilder<ProjectResource>>();
        for (var i = 0; i < replicas; i++)
        {
            var relay = builder.AddProject<Projects.Relay>(replicas == 1 ? "relay" : $"relay-{i}")
                .WithDirectHttpEndpoint()
                .WithHttpHealthCheck("/health")
                .WithReference(database)
                .WaitFor(database)
                .WithEnvironment("Relay__InstanceId", "relay-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .WithEnvironment("Relay__Auth__SigningKey", signingKey)
                .WithServiceDefaultsEnvironment();

            // Any other Relay:* setting given to the AppHost (e.g. --Relay:FrameRetention=00:01:00) reaches every relay.
            foreach (var (key, value) in builder.Configuration.GetSection("Relay").AsEnumerable(makePathsRelative: true))
            {
                if (value is not null && key != "Replicas")
                {
                    relay.WithEnvironment($"Relay__{key.Replace(":", "__", StringComparison.Ordinal)}", value);
                }
            }

            relay.WithRecreateSlotCommand(database, i);

            // Not DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, although it cut relay CPU: Npgsql cancels a command
            // with a synchronous cancel request that needs the epoll thread, and a completion running inline on that
            // thread can wait for the very cancellation callback: the relay deadlocked at Ctrl+C (docs/notes/relay.md).
            relays.Add(relay);
        }

        return relays;
    }

    /// <summary>
    /// A dashboard command that gives the relay a new slot at the current WAL position: its walsender is ended and
    /// the slot dropped, and the relay, which reconnects, finds it missing and makes a new one. For a slot that holds
    /// more WAL than is worth replaying (the relay skips stale media anyway).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRecreateSlotCommand(this IResourceBuilder<ProjectResource> relay, IResourceBuilder<IResourceWithConnectionString> database, int index)
    {
        var slotName = "pgvideochat_relay_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return relay.WithCommand(
            "recreate-slot",
            "Recreate slot",
            async context =>
            {
                try
                {
                    var connectionString = await database.Resource.ConnectionStringExpression.GetValueAsync(context.CancellationToken);
                    return await ReplicationSlotCommands.TerminateAndDropAsync(connectionString!, slotName, context.CancellationToken)
                        ? CommandResults.Success()
                        : CommandResults.Failure($"There is no slot {slotName}: the relay makes it when it starts.");
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
                {
                    return CommandResults.Failure(ex.Message);
                }
            },
            new CommandOptions
            {
                Description = $"Ends the relay's replication stream and drops {slotName}; the relay makes a new slot at the current WAL position.",
                ConfirmationMessage = $"Recreate {slotName}? Changes committed before the new slot exists are not delivered by this relay (its clients miss at most a few frames).",
                IconName = "ArrowSync",
                UpdateState = static context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            });
    }

    public static IResourceBuilder<ProjectResource> AddFrontDoor(this IDistributedApplicationBuilder builder, IReadOnlyList<IResourceBuilder<ProjectResource>> relays)
    {
        var frontDoor = builder.AddProject<Projects.FrontDoor>("frontdoor")
            .WithDirectHttpEndpoint()
            .WithHttpHealthCheck("/health")
            .WithServiceDefaultsEnvironment();
        for (var i = 0; i < relays.Count; i++)
        {
            // Service discovery's shape for one service with N addresses: services__relay__http__0, __1, …
            frontDoor.WithEnvironment($"services__relay__http__{i}", relays[i].GetEndpoint("http")).WaitFor(relays[i]);
            frontDoor.WithRelationship(relays[i].Resource, "Proxies");
        }

        return frontDoor;
    }

    public static IResourceBuilder<ProjectResource> WithAllowedOrigin(this IResourceBuilder<ProjectResource> relay, EndpointReference webclient)
    {
        return relay
            .WithEnvironment("Relay__AllowedOrigins__0", webclient)
            .WithEnvironment(context => context.EnvironmentVariables["Relay__AllowedOrigins__1"] =
                ReferenceExpression.Create($"http://127.0.0.1:{webclient.Property(EndpointProperty.Port)}"));
    }

    /// <summary>
    /// An http endpoint on a free loopback port that the project binds itself. Every frame passes through the relay
    /// and the front door, so DCP's proxy (one more copy of every byte, one more hop) stays out of their path.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDirectHttpEndpoint(this IResourceBuilder<ProjectResource> project)
    {
        var port = FreeLoopbackPort();
        return project.WithHttpEndpoint(port: port, targetPort: port, isProxied: false);
    }

    /// <summary>What every .NET service of the app model gets on top of Aspire's injected environment.</summary>
    public static IResourceBuilder<ProjectResource> WithServiceDefaultsEnvironment(this IResourceBuilder<ProjectResource> project)
    {
        // The OTLP exporter flushes at shutdown to a dashboard that has already stopped; its default 10-s timeout
        // made every service take 10 s to stop (docs/notes/apphost.md).
        return project.WithEnvironment("OTEL_EXPORTER_OTLP_TIMEOUT", "1000");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
