using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PgVideoChat.Hosting.Orchestration;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>The dashboard's JSON API: resources, their logs, replication slots and the services' metrics.</summary>
internal static class DashboardApi
{
    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");

        api.MapGet("/resources", (DistributedApplication app, bool? reveal) =>
            TypedResults.Ok(app.ResourceNotifications.Snapshots.Select(s => ResourceView.From(s, reveal ?? false)).ToList()));

        api.MapGet("/resources/{name}/logs", (string name, DistributedApplication app, long? after, string? filter) =>
            app.ResourceNotifications.TryGet(name) is null
                ? NotFound(name)
                : TypedResults.Ok(app.ResourceLogs.GetLines(name)
                    .Where(l => l.LineNumber > (after ?? 0))
                    .Where(l => string.IsNullOrEmpty(filter) || l.Content.Contains(filter, StringComparison.OrdinalIgnoreCase))
                    .ToList()));

        api.MapGet("/resources/{name}/logs/stream", StreamLogsAsync);

        // The dashboard's resource commands (Aspire's resource-start, -stop and -restart).
        foreach (var command in new[] { "start", "stop", "restart" })
        {
            api.MapPost($"/resources/{{name}}/{command}", async (string name, DistributedApplication app) =>
            {
                if (app.ResourceNotifications.TryGet(name) is null)
                {
                    return NotFound(name);
                }

                await (command switch
                {
                    "start" => app.StartResourceAsync(name),
                    "stop" => app.StopResourceAsync(name),
                    _ => app.RestartResourceAsync(name),
                });
                return Results.Accepted();
            });
        }

        api.MapGet("/replication", (ReplicationSlotSampler sampler, long? since) =>
            TypedResults.Ok(sampler.History.Where(s => s.Time.ToUnixTimeMilliseconds() > (since ?? 0)).ToList()));

        api.MapGet("/metrics", (PrometheusScraper scraper, long? since) =>
            TypedResults.Ok(scraper.History.Where(p => p.Time.ToUnixTimeMilliseconds() > (since ?? 0)).ToList()));

        return endpoints;
    }

    private static IResult NotFound(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"There is no resource named '{name}'.");

    /// <summary>Server-sent events: the kept lines, then every new one.</summary>
    private static async Task StreamLogsAsync(string name, DistributedApplication app, HttpContext context)
    {
        if (app.ResourceNotifications.TryGet(name) is null)
        {
            await NotFound(name).ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await foreach (var line in app.ResourceLogs.WatchAsync(name, context.RequestAborted))
        {
            await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(line, DashboardJsonContext.Default.LogLine) + "\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}

/// <summary>One resource as <c>/api/resources</c> returns it; secrets masked unless revealed.</summary>
internal sealed record ResourceView(
    string Name,
    string Type,
    string State,
    string Health,
    int? Pid,
    DateTimeOffset? StartTime,
    DateTimeOffset? StopTime,
    int? ExitCode,
    IReadOnlyList<EndpointView> Endpoints,
    string? ConnectionString,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> WaitsFor,
    string? Message)
{
    public static ResourceView From(ResourceSnapshot s, bool reveal) => new(
        s.Name,
        s.Type,
        s.State,
        s.Health.ToString(),
        s.ProcessId,
        s.StartTime,
        s.StopTime,
        s.ExitCode,
        [.. s.Urls.Select(u => new EndpointView(u.Key, u.Value))],
        s.ConnectionString is null || reveal ? s.ConnectionString : SecretMasker.MaskConnectionString(s.ConnectionString),
        s.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => reveal ? kv.Value : SecretMasker.MaskValue(kv.Key, kv.Value)),
        s.WaitsFor,
        s.Message);
}

internal sealed record EndpointView(string Name, string Url);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<ResourceView>))]
[JsonSerializable(typeof(List<LogLine>))]
[JsonSerializable(typeof(LogLine))]
[JsonSerializable(typeof(List<ServerSample>))]
[JsonSerializable(typeof(List<MetricPoint>))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
