using System.Globalization;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting;

/// <summary>References, waits and environment, with Aspire's names and injected variables.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>Injects <c>ConnectionStrings__&lt;name&gt;</c> and the <c>&lt;NAME&gt;_HOST/_PORT/…</c> variables.</summary>
    public static IResourceBuilder<ProjectResource> WithReference<TSource>(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<TSource> source)
        where TSource : Resource, IResourceWithConnectionString
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var resource = source.Resource;
        builder.Resource.EnvironmentCallbacks.Add(context =>
        {
            var env = context.EnvironmentVariables;
            env[$"ConnectionStrings__{resource.Name}"] = resource.ConnectionString
                ?? throw new InvalidOperationException($"'{resource.Name}' has no connection string yet; add WaitFor({resource.Name}).");
            var prefix = EnvironmentPrefix(resource.Name);
            foreach (var (key, value) in resource.ConnectionProperties)
            {
                env[$"{prefix}_{key}"] = value;
            }
        });
        return builder;
    }

    /// <summary>
    /// Injects service discovery: <c>services__&lt;name&gt;__http__i</c> for every replica i, and <c>&lt;NAME&gt;_HTTP</c>
    /// (the first replica).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var resource = source.Resource;
        builder.Resource.EnvironmentCallbacks.Add(context =>
        {
            foreach (var endpoint in resource.Endpoints)
            {
                for (var replica = 0; replica < endpoint.AllocatedPorts.Count; replica++)
                {
                    context.EnvironmentVariables[string.Create(CultureInfo.InvariantCulture, $"services__{resource.Name}__{endpoint.Name}__{replica}")] = endpoint.UrlOf(replica);
                }

                context.EnvironmentVariables[$"{EnvironmentPrefix(resource.Name)}_{endpoint.Name.ToUpperInvariant()}"] = endpoint.Url;
            }
        });
        return builder;
    }

    /// <summary>Starts the resource only once <paramref name="dependency"/> runs and its health checks pass.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<Resource> dependency)
        where T : Resource
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dependency);
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.EnvironmentCallbacks.Add(context => context.EnvironmentVariables[name] = value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(parameter);
        builder.Resource.EnvironmentCallbacks.Add(context => context.EnvironmentVariables[name] = parameter.Resource.Value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, EndpointReference endpoint)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(endpoint);
        builder.Resource.EnvironmentCallbacks.Add(context => context.EnvironmentVariables[name] = endpoint.Url);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, Action<EnvironmentCallbackContext> callback)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(callback);
        builder.Resource.EnvironmentCallbacks.Add(callback);
        return builder;
    }

    /// <summary>Runs <paramref name="replicas"/> instances, each with its own ports (Aspire's <c>WithReplicas</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        if (replicas > 1 && builder.Resource.Endpoints.Any(e => e.Port is not null))
        {
            throw new InvalidOperationException($"'{builder.Resource.Name}' has a fixed port; replicas need free ports each.");
        }

        builder.Resource.Replicas = replicas;
        return builder;
    }

    /// <summary>Listens on a fixed port (tests replace it with a free one).</summary>
    public static IResourceBuilder<ProjectResource> WithHttpEndpoint(this IResourceBuilder<ProjectResource> builder, int? port = null, string name = "http")
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = builder.Resource.Endpoints.FirstOrDefault(e => e.Name == name);
        if (endpoint is null)
        {
            builder.Resource.Endpoints.Add(new EndpointAnnotation(name, port));
        }
        else
        {
            endpoint.Port = port;
        }

        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithArgs(this IResourceBuilder<ProjectResource> builder, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Arguments.AddRange(arguments);
        return builder;
    }

    public static EndpointReference GetEndpoint(this IResourceBuilder<ProjectResource> builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return new EndpointReference(builder.Resource, name);
    }

    internal static string EnvironmentPrefix(string resourceName) => resourceName.ToUpperInvariant().Replace('-', '_');
}
