var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres")
    .WithSetting("wal_level", "logical");
var videochat = postgres.AddDatabase("videochat");

var signingKey = builder.AddParameter("relay-signing-key", new GenerateParameterDefault { MinLength = 44 }, secret: true);

var relay = builder.AddProject<Projects.Relay>("relay")
    .WithReference(videochat)
    .WaitFor(videochat)
    .WithEnvironment("Relay__InstanceId", "relay-0")
    .WithEnvironment("Relay__Auth__SigningKey", signingKey);

var webclient = builder.AddProject<Projects.WebClient>("webclient")
    .WithHttpEndpoint(port: 5080)
    .WithReference(relay)
    .WaitFor(relay);

// The relay accepts browsers only from the web client's origin, by either loopback name.
relay.WithEnvironment("Relay__AllowedOrigins__0", webclient.GetEndpoint("http"))
    .WithEnvironment(context => context.EnvironmentVariables["Relay__AllowedOrigins__1"] = webclient.GetEndpoint("http").Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));

builder.Build().Run();

/// <summary>The AppHost's entry point; tests pass it to <c>DistributedApplicationTestingBuilder.CreateAsync</c>.</summary>
public partial class Program;
