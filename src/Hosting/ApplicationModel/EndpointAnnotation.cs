namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>An HTTP endpoint of a project: a fixed port, or null for any free one.</summary>
public sealed class EndpointAnnotation(string name, int? port)
{
    public string Name { get; } = name;

    public int? Port { get; set; } = port;

    /// <summary>The port chosen when the model is built.</summary>
    public int AllocatedPort { get; internal set; }

    public string Url => $"http://localhost:{AllocatedPort}";
}
