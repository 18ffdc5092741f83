using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting;

/// <summary>Declares the app model (Aspire's <c>IDistributedApplicationBuilder</c>).</summary>
public interface IDistributedApplicationBuilder
{
    ConfigurationManager Configuration { get; }

    IServiceCollection Services { get; }

    DistributedApplicationOptions Options { get; }

    IReadOnlyList<Resource> Resources { get; }

    IResourceBuilder<T> AddResource<T>(T resource)
        where T : Resource;

    DistributedApplication Build();
}
