using Npgsql;
using PgVideoChat.Hosting.Postgres;

namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>
/// A PostgreSQL server: started from local binaries by <see cref="LocalPostgresServer"/>, or, when
/// <c>ConnectionStrings:&lt;name&gt;</c> is configured, an existing server that is used as it is.
/// </summary>
public sealed class PostgresServerResource(string name) : Resource(name), IResourceWithConnectionString
{
    public override string Type => "Postgres";

    public LocalPostgresOptions Options { get; } = new();

    /// <summary>An existing server's connection string; when set, nothing is started.</summary>
    public string? ExternalConnectionString { get; internal set; }

    public LocalPostgresServer? Server { get; internal set; }

    public List<PostgresDatabaseResource> Databases { get; } = [];

    public string? ConnectionString => ExternalConnectionString ?? Server?.GetConnectionString();

    public IReadOnlyDictionary<string, string> ConnectionProperties => PostgresConnectionProperties.From(ConnectionString, database: null);
}

/// <summary>A database on a <see cref="PostgresServerResource"/>, created when the server is ready.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server) : Resource(name), IResourceWithConnectionString
{
    public override string Type => "PostgresDatabase";

    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Server { get; } = server;

    public override Resource? Parent => Server;

    public string? ConnectionString => Server.ConnectionString is { } server
        ? new NpgsqlConnectionStringBuilder(server) { Database = DatabaseName }.ConnectionString
        : null;

    public IReadOnlyDictionary<string, string> ConnectionProperties => PostgresConnectionProperties.From(Server.ConnectionString, DatabaseName);
}

internal static class PostgresConnectionProperties
{
    public static IReadOnlyDictionary<string, string> From(string? connectionString, string? database)
    {
        if (connectionString is null)
        {
            return new Dictionary<string, string>();
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var db = database ?? builder.Database;
        var properties = new Dictionary<string, string>
        {
            ["HOST"] = builder.Host ?? "localhost",
            ["PORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["USERNAME"] = builder.Username ?? string.Empty,
            ["PASSWORD"] = builder.Password ?? string.Empty,
            ["URI"] = $"postgresql://{Uri.EscapeDataString(builder.Username ?? string.Empty)}:{Uri.EscapeDataString(builder.Password ?? string.Empty)}@{builder.Host}:{builder.Port}" + (db is null ? string.Empty : "/" + Uri.EscapeDataString(db)),
        };
        if (db is not null)
        {
            properties["DATABASENAME"] = db;
        }

        return properties;
    }
}
