using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// What DCP does not do for a server it runs as an executable: initdb before the first start, the databases and
/// their state (Aspire copies a parent's state to its children only for containers), and removing a throwaway
/// data directory when the AppHost stops.
/// </summary>
internal static partial class LocalPostgresLifecycle
{
    /// <summary>The postmaster's own pid (the executable DCP runs is the wrapper that starts it).</summary>
    public const string PostmasterPidProperty = "postgres.pid";

    public const string DataDirectoryProperty = "postgres.data_directory";

    public static async Task PrepareDataDirectoryAsync(LocalPostgresServerResource server, IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
        var directory = server.DataDirectory;
        directory.EnsureRoot();
        if (PostmasterPidFile.RunningPostmaster(directory.Data) is { } pid)
        {
            throw new DistributedApplicationException(
                $"The data directory {directory.Data} is in use by a running Postgres (pid {pid}): stop that server (or the AppHost that runs it), or use another data directory.");
        }

        var password = await server.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new DistributedApplicationException($"The password parameter of '{server.Name}' has no value.");
        var started = TimeProvider.System.GetTimestamp();
        if (await DataDirectoryInitializer.InitializeAsync(server.Binaries, directory.Data, directory.Socket, server.RunAsUser, password, directory.IsThrowaway, cancellationToken).ConfigureAwait(false))
        {
            var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            Log.Initialized(logger, directory.Data, server.Binaries.MajorVersion, seconds);
        }
    }

    public static void Start(LocalPostgresServerResource server, IServiceProvider services)
    {
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var loggers = services.GetRequiredService<ResourceLoggerService>();
        var databases = services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<LocalPostgresDatabaseResource>().Where(d => d.Parent == server).ToList();
        if (server.DataDirectory.IsThrowaway)
        {
            lifetime.ApplicationStopped.Register(() => RemoveThrowaway(server.DataDirectory));
        }

        _ = FollowServerAsync(server, databases, notifications, loggers, lifetime.ApplicationStopping);
    }

    private static async Task FollowServerAsync(
        LocalPostgresServerResource server,
        IReadOnlyList<LocalPostgresDatabaseResource> databases,
        ResourceNotificationService notifications,
        ResourceLoggerService loggers,
        CancellationToken stopping)
    {
        var logger = loggers.GetLogger(server);
        DateTime? readyFor = null;
        try
        {
            await foreach (var update in notifications.WatchAsync(stopping).ConfigureAwait(false))
            {
                if (update.Resource != server)
                {
                    continue;
                }

                var snapshot = update.Snapshot;
                var state = snapshot.State?.Text;
                if (state == KnownResourceStates.Running && snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                {
                    if (readyFor == snapshot.StartTimeStamp)
                    {
                        continue;
                    }

                    readyFor = snapshot.StartTimeStamp;
                    await PublishServerPropertiesAsync(server, update.ResourceId, notifications).ConfigureAwait(false);
                    foreach (var database in databases)
                    {
                        await CreateDatabaseAsync(server, database, notifications, loggers, stopping).ConfigureAwait(false);
                    }
                }
                else if (!string.IsNullOrEmpty(state) && state != KnownResourceStates.Running)
                {
                    readyFor = null;
                    foreach (var database in databases)
                    {
                        // Starting/Waiting before the server is up; Stopping, Exited, Finished, FailedToStart after.
                        await notifications.PublishUpdateAsync(database, s => s.State?.Text == state ? s : s with
                        {
                            State = state == KnownResourceStates.Starting ? KnownResourceStates.Waiting : state,
                            StopTimeStamp = KnownResourceStates.TerminalStates.Contains(state) ? snapshot.StopTimeStamp ?? DateTime.UtcNow : null,
                        }).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.FollowFailed(logger, ex);
        }
    }

    private static async Task PublishServerPropertiesAsync(LocalPostgresServerResource server, string resourceId, ResourceNotificationService notifications)
    {
        var pid = PostmasterPidFile.RunningPostmaster(server.DataDirectory.Data);
        await notifications.PublishUpdateAsync(server, resourceId, s => s with
        {
            Properties = WithProperty(
                WithProperty(s.Properties, DataDirectoryProperty, server.DataDirectory.Data),
                PostmasterPidProperty,
                pid?.ToString(CultureInfo.InvariantCulture)),
        }).ConfigureAwait(false);
    }

    private static async Task CreateDatabaseAsync(
        LocalPostgresServerResource server,
        LocalPostgresDatabaseResource database,
        ResourceNotificationService notifications,
        ResourceLoggerService loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.GetLogger(database);
        try
        {
            var serverConnectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false);
            var builder = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (await PostgresDatabases.CreateIfMissingAsync(connection, database.DatabaseName, cancellationToken).ConfigureAwait(false))
            {
                Log.DatabaseCreated(logger, database.DatabaseName);
            }
            else
            {
                Log.DatabaseExists(logger, database.DatabaseName);
            }

            await notifications.PublishUpdateAsync(database, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                StopTimeStamp = null,
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            Log.DatabaseFailed(logger, database.DatabaseName, ex);
            await notifications.PublishUpdateAsync(database, s => s with { State = KnownResourceStates.FailedToStart }).ConfigureAwait(false);
        }
    }

    private static ImmutableArray<ResourcePropertySnapshot> WithProperty(ImmutableArray<ResourcePropertySnapshot> properties, string name, string? value)
        => [.. properties.Where(p => p.Name != name), new ResourcePropertySnapshot(name, value)];

    private static void RemoveThrowaway(LocalDataDirectory directory)
    {
        // DCP stops the server as the AppHost stops; give its fast shutdown a moment before removing its files.
        for (var i = 0; i < 100 && PostmasterPidFile.RunningPostmaster(directory.Data) is not null; i++)
        {
            Thread.Sleep(100);
        }

        if (PostmasterPidFile.RunningPostmaster(directory.Data) is null)
        {
            ThrowawayDirectories.Delete(directory.Root);
        }

        // Otherwise the next AppHost that starts a local server stops it and removes the folder.
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "initdb made a PostgreSQL {MajorVersion} cluster in {DataDirectory} ({Seconds:0.0} s)")]
        public static partial void Initialized(ILogger logger, string dataDirectory, int majorVersion, double seconds);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Created database {Database}")]
        public static partial void DatabaseCreated(ILogger logger, string database);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Database {Database} exists")]
        public static partial void DatabaseExists(ILogger logger, string database);

        [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Could not create database {Database}")]
        public static partial void DatabaseFailed(ILogger logger, string database, Exception exception);

        [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Stopped following the server's state")]
        public static partial void FollowFailed(ILogger logger, Exception exception);
    }
}
