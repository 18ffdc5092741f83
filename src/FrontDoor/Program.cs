var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRelayFrontDoor();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();
