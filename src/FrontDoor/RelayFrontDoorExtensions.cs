using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.SessionAffinity;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// One URL in front of every relay replica: sign-in and WebSockets are proxied to a healthy relay. A WebSocket stays
/// on the relay it was opened on for its lifetime. A browser that reconnects goes back to the same relay while it is
/// healthy (the affinity cookie), and to another one when it is not, which is fine because every relay has its own
/// slot on the same publication and so reaches every user.
/// </summary>
internal static class RelayFrontDoorExtensions
{
    /// <summary>
    /// The affinity cookie: a hash of the relay's destination id (relay-0, relay-1, …). A browser carries it on its
    /// WebSocket handshake (cookies ignore the port, so the web client's page and the front door share it).
    /// </summary>
    public const string AffinityCookieName = ".PgVideoChat.Relay";

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
                SessionAffinity = new SessionAffinityConfig
                {
                    Enabled = true,
                    // A plain hash rather than the default data-protected cookie: every front door instance, and a
                    // restarted one, reads it without sharing keys; it names a relay and grants nothing.
                    Policy = SessionAffinityConstants.Policies.HashCookie,
                    // A cookie for a relay that is out of rotation (dead, or its replication down) sends the client
                    // to another healthy relay, which answers with a new cookie: failover needs nothing from clients.
                    FailurePolicy = SessionAffinityConstants.FailurePolicies.Redistribute,
                    AffinityKeyName = AffinityCookieName,
                    Cookie = new SessionAffinityCookieConfig
                    {
                        HttpOnly = true,
                        IsEssential = true,
                        SameSite = SameSiteMode.Lax,
                        SecurePolicy = CookieSecurePolicy.SameAsRequest,
                    },
                },
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
