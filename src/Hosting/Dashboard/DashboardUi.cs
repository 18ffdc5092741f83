using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>Serves the dashboard's page, script and styles, embedded in this assembly so the AppHost needs no web root.</summary>
internal static class DashboardUi
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    public static IEndpointRouteBuilder MapDashboardUi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Serve("index.html"));
        endpoints.MapGet("/ui/{file}", (string file) => Serve(file));
        return endpoints;
    }

    private static IResult Serve(string file)
    {
        var stream = typeof(DashboardUi).Assembly.GetManifestResourceStream("Dashboard.wwwroot." + file);
        if (stream is null || !ContentTypes.TryGetValue(Path.GetExtension(file), out var contentType))
        {
            stream?.Dispose();
            return Results.NotFound();
        }

        return Results.Stream(stream, contentType);
    }
}
