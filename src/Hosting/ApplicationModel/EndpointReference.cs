namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>A named endpoint of a resource; its URL is known once ports are allocated, before anything starts.</summary>
public sealed class EndpointReference(ProjectResource resource, string endpointName)
{
    public ProjectResource Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    public string Url => Resource.GetEndpointUrl(EndpointName)
        ?? throw new InvalidOperationException($"Endpoint '{EndpointName}' of '{Resource.Name}' has no port allocated yet.");

    public override string ToString() => Url;
}
