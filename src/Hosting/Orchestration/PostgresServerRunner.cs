using Npgsql;
using PgVideoChat.Hosting.ApplicationModel;
using PgVideoChat.Hosting.Postgres;

namespace PgVideoChat.Hosting.Orchestration;

internal sealed class PostgresServerRunner(PostgresServerResource resource, OrchestratorContext context) : ResourceRunner(resource, context)
{
    private readonly PostgresServerResource _resource = resource;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ResourceStates.Starting);
        if (_resource.ExternalConnectionString is { } external)
        {
            await StartExternalAsync(external, cancellationToken);
            return;
        }

        try
        {
            if (_resource.Server is { } existing)
            {
                await existing.StartAsync(cancellationToken);
            }
            else
            {
                _resource.Options.OnOutput = line => Log(line, isError: line.Contains("ERROR", StringComparison.Ordinal) || line.Contains("FATAL", StringComparison.Ordinal));
                _resource.Server = await LocalPostgresServer.StartAsync(_resource.Options, Context.Spawner, logger: null, cancellationToken);
            }
        }
        catch (DistributedApplicationException ex)
        {
            Context.Notifications.Update(Name, s => s with { State = ResourceStates.FailedToStart, Message = ex.Message });
            throw;
        }

        var server = _resource.Server;
        Context.Notifications.Update(Name, s => s with
        {
            State = ResourceStates.Running,
            Health = HealthStatus.Healthy,
            ProcessId = server.ProcessId,
            StartTime = DateTimeOffset.UtcNow,
            StopTime = null,
            ExitCode = null,
            ConnectionString = server.GetConnectionString(),
            Urls = new Dictionary<string, string> { ["tcp"] = $"tcp://{LocalPostgresServer.Host}:{server.Port}" },
            Message = null,
        });
        _ = WatchExitAsync(server);
    }

    private async Task WatchExitAsync(LocalPostgresServer server)
    {
        var pid = server.ProcessId;
        await server.Exited;
        Context.Notifications.Update(Name, s => s.ProcessId != pid ? s : s with
        {
            State = s.State == ResourceStates.Stopping ? ResourceStates.Finished : ResourceStates.Exited,
            Health = HealthStatus.Unknown,
            ProcessId = null,
            StopTime = DateTimeOffset.UtcNow,
        });
    }

    private async Task StartExternalAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SHOW wal_level", connection);
            var walLevel = (string?)await command.ExecuteScalarAsync(cancellationToken);
            if (walLevel != "logical")
            {
                throw new DistributedApplicationException(
                    $"The server of ConnectionStrings__{Name} has wal_level={walLevel}; logical replication needs wal_level=logical (ALTER SYSTEM SET wal_level = logical; then restart it).");
            }
        }
        catch (NpgsqlException ex)
        {
            var failure = new DistributedApplicationException($"Cannot connect to the server of ConnectionStrings__{Name}: {ex.Message}. Check the connection string, or unset it to start a local server.", ex);
            Context.Notifications.Update(Name, s => s with { State = ResourceStates.FailedToStart, Message = failure.Message });
            throw failure;
        }

        Context.Notifications.Update(Name, s => s with
        {
            State = ResourceStates.Running,
            Health = HealthStatus.Healthy,
            StartTime = DateTimeOffset.UtcNow,
            ConnectionString = connectionString,
        });
    }

    public override async Task StopAsync() => await StopAsync(PostgresShutdownMode.Fast);

    public override async Task KillAsync() => await StopAsync(PostgresShutdownMode.Immediate);

    public async Task StopAsync(PostgresShutdownMode mode)
    {
        if (_resource.Server is not { ProcessId: not null } server)
        {
            return;
        }

        SetState(ResourceStates.Stopping);
        await server.StopAsync(mode);
    }

    /// <summary>Stops the server and removes its throwaway data.</summary>
    public async Task DisposeAsync()
    {
        if (_resource.Server is { } server)
        {
            if (server.ProcessId is not null)
            {
                SetState(ResourceStates.Stopping);
            }

            await server.DisposeAsync();
        }
    }
}
