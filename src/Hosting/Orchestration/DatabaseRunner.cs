using Npgsql;
using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Creates the database once its server is ready (ignoring "already exists"), like Aspire's AddDatabase.</summary>
internal sealed class DatabaseRunner(PostgresDatabaseResource resource, OrchestratorContext context) : ResourceRunner(resource, context)
{
    private readonly PostgresDatabaseResource _resource = resource;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ResourceStates.Starting);
        var server = _resource.Server;
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{_resource.DatabaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                Log($"Created database {_resource.DatabaseName}");
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                Log($"Database {_resource.DatabaseName} exists");
            }
        }

        Context.Notifications.Update(Name, s => s with
        {
            State = ResourceStates.Running,
            Health = HealthStatus.Healthy,
            StartTime = DateTimeOffset.UtcNow,
            ConnectionString = _resource.ConnectionString,
        });
    }

    public override Task StopAsync()
    {
        SetState(ResourceStates.Finished);
        return Task.CompletedTask;
    }

    public override Task KillAsync() => StopAsync();
}
