using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting;

/// <summary>The resource methods of Aspire's hosting packages, for the resources this orchestrator runs.</summary>
public static class DistributedApplicationBuilderExtensions
{
    /// <summary>
    /// A PostgreSQL server (Aspire.Hosting.PostgreSQL's <c>AddPostgres</c>). If <c>ConnectionStrings:&lt;name&gt;</c>
    /// is configured, that server is used and none is started.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var resource = new PostgresServerResource(name)
        {
            ExternalConnectionString = builder.Configuration.GetConnectionStringOrNull(name),
        };
        resource.Options.BinDirectory = builder.Configuration["Postgres:BinDirectory"];
        return builder.AddResource(resource);
    }

    /// <summary>A database on the server, created when the server is ready.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var database = new PostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    /// <summary>Passes <c>-c name=value</c> to the server (Aspire passes <c>WithArgs("-c", "wal_level=logical")</c> to the container).</summary>
    public static IResourceBuilder<PostgresServerResource> WithSetting(this IResourceBuilder<PostgresServerResource> server, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Resource.Options.Settings[name] = value;
        return server;
    }

    /// <summary>Keeps the data across runs (Aspire's <c>WithDataVolume</c>); the folder is per user and per volume name.</summary>
    public static IResourceBuilder<PostgresServerResource> WithDataVolume(this IResourceBuilder<PostgresServerResource> server, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var root = Processes.OsUser.IsRoot
            ? "/var/lib/pgvideochat/volumes"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "pgvideochat", "volumes");
        return server.WithDataBindMount(Path.Combine(root, name ?? $"{server.Resource.Name}-data"));
    }

    /// <summary>Keeps the data in the given folder.</summary>
    public static IResourceBuilder<PostgresServerResource> WithDataBindMount(this IResourceBuilder<PostgresServerResource> server, string path)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Resource.Options.DataDirectory = path;
        return server;
    }

    /// <summary>A .NET project of the solution, run from its build output (Aspire's <c>AddProject&lt;Projects.X&gt;</c>).</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddResource(new ProjectResource(name, new TProject()));
    }

    /// <summary>A parameter: <c>Parameters:&lt;name&gt;</c> from configuration, or a value generated for this run.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, GenerateParameterDefault value, bool secret = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(value);
        var configured = builder.Configuration[$"Parameters:{name}"];
        return builder.AddResource(new ParameterResource(name, string.IsNullOrEmpty(configured) ? value.GetDefaultValue() : configured, secret));
    }

    private static string? GetConnectionStringOrNull(this Microsoft.Extensions.Configuration.IConfiguration configuration, string name)
    {
        var value = configuration[$"ConnectionStrings:{name}"];
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
