var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRelay();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapRelay();

app.Run();
