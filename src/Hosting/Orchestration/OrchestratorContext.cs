using Microsoft.Extensions.Logging;
using PgVideoChat.Hosting.Processes;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>What every runner shares.</summary>
internal sealed class OrchestratorContext(
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    ProcessSpawner spawner,
    ConsoleEcho? echo,
    ILoggerFactory loggerFactory)
{
    public ResourceNotificationService Notifications { get; } = notifications;

    public ResourceLoggerService Logs { get; } = logs;

    public ProcessSpawner Spawner { get; } = spawner;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    public void AppendLog(string resource, string line, bool isError)
    {
        Logs.Append(resource, line, isError);
        echo?.Write(resource, line);
    }
}
