using System.Globalization;

namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>An HTTP endpoint of a project: a fixed port, or null for any free one; one port per replica.</summary>
public sealed class EndpointAnnotation(string name, int? port)
{
    public string Name { get; } = name;

    public int? Port { get; set; } = port;

    /// <summary>The ports chosen when the model is built, one per replica.</summary>
    public IList<int> AllocatedPorts { get; } = [];

    /// <summary>The first replica's port.</summary>
    public int AllocatedPort => AllocatedPorts.Count > 0 ? AllocatedPorts[0] : 0;

    public string Url => UrlOf(0);

    public string UrlOf(int replica) => string.Create(CultureInfo.InvariantCulture, $"http://localhost:{AllocatedPorts[replica]}");
}
