namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>A .NET project run from its build output with the environment an Aspire AppHost injects.</summary>
public sealed class ProjectResource(string name, IProjectMetadata metadata) : Resource(name)
{
    public override string Type => "Project";

    public IProjectMetadata Metadata { get; } = metadata;

    public List<EndpointAnnotation> Endpoints { get; } = [new EndpointAnnotation("http", port: null)];

    /// <summary>Callbacks that add environment variables; run just before the process starts.</summary>
    public List<Action<IDictionary<string, string>>> EnvironmentCallbacks { get; } = [];

    public List<string> Arguments { get; } = [];

    /// <summary>Path polled for health; the process is Healthy when it answers 200.</summary>
    public string HealthCheckPath { get; set; } = "/health";

    public string? GetEndpointUrl(string endpointName) =>
        Endpoints.FirstOrDefault(e => e.Name == endpointName) is { AllocatedPort: > 0 } endpoint ? endpoint.Url : null;
}
