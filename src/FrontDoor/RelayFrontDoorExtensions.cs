using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// One URL in front of every relay replica: sign-in and WebSockets are proxied to a healthy relay. A WebSocket stays
/// on the relay it was opened on for its lifetime; a client that reconnects may land on another relay, which is
/// fine because every relay has its own slot on the same publication and so reaches every user.
/// </summary>
internal static class RelayFrontDoorExtensions
{
    private const string ClusterId = "relay";

    public static IHostApplicationBuilder AddRelayFrontDoor(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The relays come from service discovery's configuration: services__relay__http__0, __1, …
        var destinations = builder.Configuration.GetSection("services:relay:http").GetChildren()
            .Where(c => !string.IsNullOrWhiteSpace(c.Value))
            .ToDictionary(c => $"relay-{c.Key}", c => new DestinationConfig { Address = c.Value!, Health = c.Value });
        if (destinations.Count == 0)
        {
            throw new InvalidOperationException("No relay is configured: set services__relay__http__0 (the AppHost does this through WithReference(relay)).");
        }

        RouteConfig[] routes =
        [
            new() { RouteId = "sessions", ClusterId = ClusterId, Match = new RouteMatch { Path = "/api/{**rest}" } },
            new() { RouteId = "websocket", ClusterId = ClusterId, Match = new RouteMatch { Path = "/ws" } },
        ];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = ClusterId,
                LoadBalancingPolicy = "PowerOfTwoChoices",
                Destinations = destinations,
                HealthCheck = new HealthCheckConfig
                {
                    // A relay whose replication stream is down answers 503 on /health: take it out of rotation.
                    Active = new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Interval = TimeSpan.FromSeconds(2),
                        Timeout = TimeSpan.FromSeconds(1),
                        Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                        Path = "/health",
                    },
                    Passive = new PassiveHealthCheckConfig
                    {
                        Enabled = true,
                        Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                        ReactivationPeriod = TimeSpan.FromSeconds(5),
                    },
                },
            },
        ];
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        return builder;
    }
}
