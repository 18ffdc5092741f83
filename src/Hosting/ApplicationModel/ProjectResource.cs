namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>A .NET project run from its build output with the environment an Aspire AppHost injects.</summary>
public sealed class ProjectResource(string name, IProjectMetadata metadata) : Resource(name)
{
    public override string Type => "Project";

    public IProjectMetadata Metadata { get; } = metadata;

    public List<EndpointAnnotation> Endpoints { get; } = [new EndpointAnnotation("http", port: null)];

    /// <summary>Callbacks that add environment variables; run just before each replica starts.</summary>
    public List<Action<EnvironmentCallbackContext>> EnvironmentCallbacks { get; } = [];

    public List<string> Arguments { get; } = [];

    /// <summary>How many instances run (Aspire's <c>WithReplicas</c>); each gets its own ports.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Path polled for health; the process is Healthy when it answers 200.</summary>
    public string HealthCheckPath { get; set; } = "/health";

    /// <summary>The name of replica <paramref name="index"/>: the resource name when there is one replica.</summary>
    public string InstanceName(int index) => Replicas == 1 ? Name : $"{Name}-{index}";

    public IEnumerable<string> InstanceNames => Enumerable.Range(0, Replicas).Select(InstanceName);

    public string? GetEndpointUrl(string endpointName, int replica = 0) =>
        Endpoints.FirstOrDefault(e => e.Name == endpointName) is { } endpoint && endpoint.AllocatedPorts.Count > replica ? endpoint.UrlOf(replica) : null;
}
