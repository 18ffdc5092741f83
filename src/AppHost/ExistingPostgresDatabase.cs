using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PgVideoChat.AppHost;

/// <summary>
/// The health of the <c>videochat</c> database on an existing server: it is healthy once the server answers with
/// <c>wal_level=logical</c> and the database exists (it is created when missing), so the relays, which wait for it,
/// start against a server that can serve them.
/// </summary>
internal static class ExistingPostgresDatabase
{
    public static IResourceBuilder<IResourceWithConnectionString> WithExistingDatabaseCheck(this IResourceBuilder<IResourceWithConnectionString> database, IResourceBuilder<IResourceWithConnectionString> server)
    {
        var key = $"{database.Resource.Name}_existing_check";
        var databaseName = PostgresResources.DatabaseName;
        database.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            key,
            _ => new Check(server.Resource, databaseName),
            failureStatus: null,
            tags: null));
        return database.WithHealthCheck(key);
    }

    private sealed class Check(IResourceWithConnectionString server, string databaseName) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken);
                var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 };
                builder.Database ??= "postgres";
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                await using (var show = new NpgsqlCommand("SHOW wal_level", connection))
                {
                    var walLevel = (string?)await show.ExecuteScalarAsync(cancellationToken);
                    if (walLevel != "logical")
                    {
                        return HealthCheckResult.Unhealthy(
                            $"The server of ConnectionStrings__postgres has wal_level={walLevel}; logical replication needs wal_level=logical (ALTER SYSTEM SET wal_level = logical; then restart it).");
                    }
                }

                await PostgresDatabases.CreateIfMissingAsync(connection, databaseName, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ArgumentException)
            {
                return HealthCheckResult.Unhealthy($"Cannot use the server of ConnectionStrings__postgres: {ex.Message}. Check the connection string, or unset it to start a local server.", ex);
            }
        }
    }
}
