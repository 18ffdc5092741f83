using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>Healthy when a connection opens and answers: the server accepts connections and the database exists.</summary>
internal sealed class PostgresConnectHealthCheck(Func<CancellationToken, ValueTask<string?>> connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(await connectionString(cancellationToken).ConfigureAwait(false))
            {
                // Unpooled: the check must see a restarted server, not a connection kept from before.
                Pooling = false,
                Timeout = 3,
            };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }
}
