using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PgVideoChat.Hosting.Orchestration;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>The dashboard's JSON API.</summary>
internal static class DashboardApi
{
    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapGet("/resources", (DistributedApplication app) =>
            TypedResults.Ok(app.ResourceNotifications.Snapshots.Select(ResourceView.From).ToList()));
        api.MapGet("/resources/{name}/logs", (string name, DistributedApplication app) =>
            app.ResourceNotifications.TryGet(name) is null
                ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"There is no resource named '{name}'.")
                : TypedResults.Ok(app.ResourceLogs.GetLines(name)));
        return endpoints;
    }
}

/// <summary>One resource as <c>/api/resources</c> returns it.</summary>
internal sealed record ResourceView(
    string Name,
    string Type,
    string State,
    string Health,
    int? Pid,
    DateTimeOffset? StartTime,
    int? ExitCode,
    IReadOnlyList<EndpointView> Endpoints,
    string? ConnectionString,
    IReadOnlyList<string> WaitsFor,
    string? Message)
{
    public static ResourceView From(ResourceSnapshot s) => new(
        s.Name,
        s.Type,
        s.State,
        s.Health.ToString(),
        s.ProcessId,
        s.StartTime,
        s.ExitCode,
        [.. s.Urls.Select(u => new EndpointView(u.Key, u.Value))],
        s.ConnectionString,
        s.WaitsFor,
        s.Message);
}

internal sealed record EndpointView(string Name, string Url);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<ResourceView>))]
[JsonSerializable(typeof(IReadOnlyList<LogLine>))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
