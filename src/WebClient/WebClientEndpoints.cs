namespace Microsoft.Extensions.Hosting;

/// <summary>The static client and the endpoint that tells it where the relay is.</summary>
internal static class WebClientEndpoints
{
    public static WebApplication MapWebClient(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseDefaultFiles();
        app.UseStaticFiles();

        // Service discovery's configuration (services__relay__http__0), never a hard-coded port.
        app.MapGet("/config.json", (IConfiguration configuration) =>
        {
            var relayUrl = configuration["services:relay:https:0"] ?? configuration["services:relay:http:0"];
            return relayUrl is null
                ? Results.Problem(
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "The relay's address is not configured.",
                    detail: "Set services__relay__http__0 (the AppHost does this through WithReference(relay)).")
                : Results.Json(new { relayUrl = relayUrl.TrimEnd('/') });
        });
        return app;
    }
}
