using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting;

internal sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    /// <summary>The testing builder listens here to take over an AppHost's model before it runs (as Aspire.Hosting.Testing does).</summary>
    internal const string DiagnosticListenerName = "PgVideoChat.Hosting";
    internal const string BuilderCreatedEvent = "BuilderCreated";
    internal const string BuildingEvent = "Building";

    private readonly List<Resource> _resources = [];

    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        Options = options;
        Configuration = new ConfigurationManager();
        Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        Configuration.AddEnvironmentVariables();
        Configuration.AddCommandLine(options.Args);

        // Lets a second AppHost (or a test that runs the AppHost as a process) avoid the fixed ports of the first.
        if (Configuration.GetValue<bool>("AppHost:RandomizePorts"))
        {
            options.RandomizePorts = true;
        }

        using var listener = new DiagnosticListener(DiagnosticListenerName);
        if (listener.IsEnabled(BuilderCreatedEvent))
        {
            listener.Write(BuilderCreatedEvent, this);
        }
    }

    public ConfigurationManager Configuration { get; }

    public IServiceCollection Services { get; } = new ServiceCollection();

    public DistributedApplicationOptions Options { get; }

    public IReadOnlyList<Resource> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (_resources.Any(r => r.Name == resource.Name))
        {
            throw new DistributedApplicationException($"A resource named '{resource.Name}' is already in the app model; names must be unique.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    public DistributedApplication Build()
    {
        using (var listener = new DiagnosticListener(DiagnosticListenerName))
        {
            if (listener.IsEnabled(BuildingEvent))
            {
                // The testing builder stops the AppHost's Main here by throwing; it builds the app itself.
                listener.Write(BuildingEvent, this);
            }
        }

        return BuildCore();
    }

    internal DistributedApplication BuildCore() => new(this);
}
