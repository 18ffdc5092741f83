var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres")
    .WithSetting("wal_level", "logical");

// Server settings for experiments, e.g. --Postgres:Settings:max_slot_wal_keep_size=64MB.
foreach (var (name, value) in builder.Configuration.GetSection("Postgres:Settings").AsEnumerable(makePathsRelative: true))
{
    if (value is not null)
    {
        postgres.WithSetting(name, value);
    }
}
var videochat = postgres.AddDatabase("videochat");

var signingKey = builder.AddParameter("relay-signing-key", new GenerateParameterDefault { MinLength = 44 }, secret: true);

// Each relay instance owns a replication slot named after its instance id (relay-0, relay-1, …).
var relayReplicas = builder.Configuration.GetValue("Relay:Replicas", 1);
var relay = builder.AddProject<Projects.Relay>("relay")
    .WithReplicas(relayReplicas)
    .WithReference(videochat)
    .WaitFor(videochat)
    .WithEnvironment(context => context.EnvironmentVariables["Relay__InstanceId"] = $"relay-{context.ReplicaIndex}")
    .WithEnvironment("Relay__Auth__SigningKey", signingKey);
// Not DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, although it cut relay CPU: Npgsql cancels a command with a
// synchronous cancel request that needs the epoll thread, and a completion running inline on that thread can wait
// for the very cancellation callback: the relay deadlocked at Ctrl+C in 3 of 12 tries (docs/notes/relay.md).

// Any other Relay:* setting given to the AppHost (e.g. --Relay:FrameRetention=00:01:00) reaches every relay.
foreach (var (key, value) in builder.Configuration.GetSection("Relay").AsEnumerable(makePathsRelative: true))
{
    if (value is not null && key != "Replicas")
    {
        relay.WithEnvironment($"Relay__{key.Replace(":", "__", StringComparison.Ordinal)}", value);
    }
}

var webclient = builder.AddProject<Projects.WebClient>("webclient")
    .WithHttpEndpoint(port: 5080);

if (relayReplicas == 1)
{
    webclient.WithReference(relay).WaitFor(relay);
}
else
{
    // Several relays sit behind one URL; the web client is told that URL as the relay's.
    var frontDoor = builder.AddProject<Projects.FrontDoor>("frontdoor")
        .WithReference(relay)
        .WaitFor(relay);
    webclient.WithEnvironment("services__relay__http__0", frontDoor.GetEndpoint("http")).WaitFor(frontDoor);
}

// The relay accepts browsers only from the web client's origin, by either loopback name.
relay.WithEnvironment("Relay__AllowedOrigins__0", webclient.GetEndpoint("http"))
    .WithEnvironment(context => context.EnvironmentVariables["Relay__AllowedOrigins__1"] = webclient.GetEndpoint("http").Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));

builder.Build().Run();

/// <summary>The AppHost's entry point; tests pass it to <c>DistributedApplicationTestingBuilder.CreateAsync</c>.</summary>
public partial class Program;
