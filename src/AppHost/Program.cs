using PgVideoChat.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var videochat = builder.AddVideoChatDatabase();

var signingKey = builder.AddParameter("relay-signing-key", new GenerateParameterDefault { MinLength = 44 }, secret: true);

// Each relay instance owns a replication slot named after its instance id (relay-0, relay-1, …).
var relays = builder.AddRelays(videochat, signingKey);

var webclient = builder.AddProject<Projects.WebClient>("webclient")
    .WithHttpEndpoint(port: 5080)
    .WithHttpHealthCheck("/health")
    .WithServiceDefaultsEnvironment();

if (relays.Count == 1)
{
    webclient.WithReference(relays[0]).WaitFor(relays[0]);
}
else
{
    // Several relays sit behind one URL; the web client is told that URL as the relay's.
    var frontDoor = builder.AddFrontDoor(relays);
    webclient.WithEnvironment("services__relay__http__0", frontDoor.GetEndpoint("http")).WaitFor(frontDoor);
}

// The relays accept browsers only from the web client's origin, by either loopback name.
foreach (var relay in relays)
{
    relay.WithAllowedOrigin(webclient.GetEndpoint("http"));
}

// Last, so that every secret parameter of the model is known (src/AppHost/SecretMasking.cs).
builder.AddSecretMasking();

builder.Build().Run();
