using Microsoft.Extensions.Configuration;
using PgVideoChat.Hosting.LocalPostgres;

namespace PgVideoChat.AppHost;

/// <summary>
/// The <c>postgres</c> server and its <c>videochat</c> database, one of three ways behind the same names and the same
/// environment for the projects that reference the database:
/// <list type="bullet">
/// <item><c>Local</c> (default): this machine's server binaries, run by DCP; no container runtime needed.</item>
/// <item><c>Container</c>: Aspire.Hosting.PostgreSQL's image; chosen by <c>Postgres:Mode=Container</c>, and when no
/// server binaries are found.</item>
/// <item><c>Existing</c>: the server of <c>ConnectionStrings:postgres</c>; the database is created there when missing.</item>
/// </list>
/// </summary>
internal static class PostgresResources
{
    public const string ServerName = "postgres";
    public const string DatabaseName = "videochat";

    public static IResourceBuilder<IResourceWithConnectionString> AddVideoChatDatabase(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var settings = new Dictionary<string, string>(PostgresSettings.Defaults, StringComparer.OrdinalIgnoreCase);

        // Server settings for experiments, e.g. --Postgres:Settings:max_slot_wal_keep_size=64MB.
        foreach (var (name, value) in configuration.GetSection("Postgres:Settings").AsEnumerable(makePathsRelative: true))
        {
            if (value is not null)
            {
                settings[name] = value;
            }
        }

        var dataDirectory = configuration["Postgres:DataDirectory"];
        switch (ChooseMode(configuration))
        {
            case PostgresMode.Existing:
                var existing = builder.AddConnectionString(ServerName);
                return builder.AddConnectionString(DatabaseName, ReferenceExpression.Create($"{existing.Resource};Database={DatabaseName}"))
                    .WithExistingDatabaseCheck(existing)
                    .WithReplicationSlotResources();

            case PostgresMode.Container:
                var container = builder.AddPostgres(ServerName);
                foreach (var (name, value) in settings)
                {
                    container.WithArgs("-c", $"{name}={value}");
                }

                if (!string.IsNullOrWhiteSpace(dataDirectory))
                {
                    container.WithDataBindMount(dataDirectory);
                }

                return container.AddDatabase(DatabaseName).WithReplicationSlotResources();

            default:
                var local = builder.AddLocalPostgres(ServerName, binDirectory: configuration["Postgres:BinDirectory"]);
                foreach (var (name, value) in settings)
                {
                    local.WithSetting(name, value);
                }

                if (!string.IsNullOrWhiteSpace(dataDirectory))
                {
                    local.WithDataDirectory(dataDirectory);
                }

                return local.AddDatabase(DatabaseName).WithReplicationSlotResources();
        }
    }

    private static PostgresMode ChooseMode(IConfiguration configuration)
    {
        var configured = configuration["Postgres:Mode"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Enum.TryParse<PostgresMode>(configured, ignoreCase: true, out var mode)
                ? mode
                : throw new DistributedApplicationException($"Postgres:Mode is '{configured}'; use Local, Container or Existing.");
        }

        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString(ServerName)))
        {
            return PostgresMode.Existing;
        }

        // A configured folder that is wrong is an error to fix (AddLocalPostgres says so), not a reason to switch.
        if (string.IsNullOrWhiteSpace(configuration["Postgres:BinDirectory"]) && !PostgresBinaries.TryLocate(null, out _, out var problem))
        {
            Console.Error.WriteLine($"warning: {problem} Using the Postgres container instead (Postgres:Mode=Container), which needs a container runtime.");
            return PostgresMode.Container;
        }

        return PostgresMode.Local;
    }
}

internal enum PostgresMode
{
    Local,
    Container,
    Existing,
}
