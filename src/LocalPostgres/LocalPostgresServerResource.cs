using PgVideoChat.Hosting.LocalPostgres;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A PostgreSQL server run by DCP as an executable from this machine's server binaries: no container runtime needed.
/// It listens on 127.0.0.1 only, on a port picked when the app model is built, with scram-sha-256 and a password
/// parameter; its data directory is a throwaway one (removed when the AppHost stops) unless
/// <see cref="LocalPostgresBuilderExtensions.WithDataDirectory"/> names a persistent one.
/// </summary>
public sealed class LocalPostgresServerResource : ExecutableResource, IResourceWithConnectionString
{
    /// <summary>The superuser role initdb creates, and the OS user the server runs as when the AppHost is root.</summary>
    public const string SuperUser = "postgres";

    internal const string PrimaryEndpointName = "tcp";

    internal LocalPostgresServerResource(string name, PostgresBinaries binaries, ParameterResource password, LocalDataDirectory dataDirectory)
        : base(name, "/bin/sh", dataDirectory.Root)
    {
        ArgumentNullException.ThrowIfNull(binaries);
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        Binaries = binaries;
        PasswordParameter = password;
        DataDirectory = dataDirectory;
        PrimaryEndpoint = new EndpointReference(this, PrimaryEndpointName);
    }

    /// <summary>The initdb and postgres this server runs.</summary>
    public PostgresBinaries Binaries { get; }

    /// <summary>The password of the <c>postgres</c> role.</summary>
    public ParameterResource PasswordParameter { get; }

    public EndpointReference PrimaryEndpoint { get; }

    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    /// <summary>Server settings, passed as <c>-c name=value</c>; the last one set for a name wins.</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    internal Dictionary<string, string> MutableSettings => _settings;

    internal LocalDataDirectory DataDirectory { get; set; }

    /// <summary>The OS user the server and initdb run as: <c>postgres</c> when the AppHost is root, else the AppHost's own.</summary>
    internal string? RunAsUser { get; } = OsUser.IsRoot ? SuperUser : null;

    /// <summary>The databases created on this server once it is ready (resource name → database name).</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    private readonly Dictionary<string, string> _settings = new(StringComparer.OrdinalIgnoreCase);

    private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);

    internal void AddDatabase(string name, string databaseName) => _databases.TryAdd(name, databaseName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host={Host};Port={Port};Username={SuperUser};Password={PasswordParameter}");

    public ReferenceExpression UriExpression => BuildUri(databaseName: null);

    internal ReferenceExpression BuildUri(string? databaseName)
    {
        var builder = new ReferenceExpressionBuilder();
        builder.Append($"postgresql://{SuperUser}:{PasswordParameter:uri}@{Host}:{Port}");
        if (databaseName is not null)
        {
            builder.AppendLiteral("/");
            builder.Append($"{databaseName:uri}");
        }

        return builder.Build();
    }

    // The same names as Aspire.Hosting.PostgreSQL's server, so a referencing project gets the same variables
    // (POSTGRES_HOST, POSTGRES_PORT, …) whichever of the two runs the server.
    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
        new("Username", ReferenceExpression.Create($"{SuperUser}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", UriExpression),
    ];
}
