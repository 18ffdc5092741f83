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
        builder.Resource.EnvironmentCallbacks.Add(env =>
        {
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

    /// <summary>Injects service discovery: <c>services__&lt;name&gt;__http__0</c> and <c>&lt;NAME&gt;_HTTP</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(source);
        var resource = source.Resource;
        builder.Resource.EnvironmentCallbacks.Add(env =>
        {
            foreach (var endpoint in resource.Endpoints)
            {
                env[$"services__{resource.Name}__{endpoint.Name}__0"] = endpoint.Url;
                env[$"{EnvironmentPrefix(resource.Name)}_{endpoint.Name.ToUpperInvariant()}"] = endpoint.Url;
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
        builder.Resource.EnvironmentCallbacks.Add(env => env[name] = value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(parameter);
        builder.Resource.EnvironmentCallbacks.Add(env => env[name] = parameter.Resource.Value);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, EndpointReference endpoint)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(endpoint);
        builder.Resource.EnvironmentCallbacks.Add(env => env[name] = endpoint.Url);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, Action<IDictionary<string, string>> callback)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(callback);
        builder.Resource.EnvironmentCallbacks.Add(callback);
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
