using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>The environment an Aspire AppHost gives a project in run mode.</summary>
internal sealed class EnvironmentBuilder(string? otlpEndpoint)
{
    public Dictionary<string, string?> Build(ProjectResource resource, int replica)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = string.Join(';', resource.Endpoints.Select(e => e.UrlOf(replica))),
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["OTEL_SERVICE_NAME"] = resource.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={Guid.NewGuid():N}",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
            ["OTEL_TRACES_SAMPLER"] = "always_on",
            ["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true",
            ["LOGGING__CONSOLE__FORMATTERNAME"] = "simple",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };

        // Aspire points OTLP at its dashboard; ours has no OTLP receiver, so export only to a collector the user runs.
        if (otlpEndpoint is not null)
        {
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
            env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc";
        }

        var context = new EnvironmentCallbackContext(env, replica, resource.InstanceName(replica));
        foreach (var callback in resource.EnvironmentCallbacks)
        {
            callback(context);
        }

        var result = env.ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.Ordinal);

        // What the AppHost itself was given for its own resources must not leak into a project's configuration.
        foreach (var inherited in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (!result.ContainsKey(inherited) && (inherited.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
                || inherited.StartsWith("services__", StringComparison.OrdinalIgnoreCase)
                || inherited.StartsWith("Parameters__", StringComparison.OrdinalIgnoreCase)
                || inherited.StartsWith("Dashboard__", StringComparison.OrdinalIgnoreCase)))
            {
                result[inherited] = null;
            }
        }

        return result;
    }
}
