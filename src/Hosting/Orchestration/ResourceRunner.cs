using PgVideoChat.Hosting.ApplicationModel;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Runs one resource: start when its dependencies are healthy, stop, restart, kill.</summary>
internal abstract class ResourceRunner(Resource resource, OrchestratorContext context, string? instanceName = null)
{
    public Resource Resource { get; } = resource;

    protected OrchestratorContext Context { get; } = context;

    /// <summary>The resource's name, or the replica's (<c>relay-1</c>).</summary>
    public string Name { get; } = instanceName ?? resource.Name;

    public ResourceSnapshot Snapshot => Context.Notifications.TryGet(Name)!;

    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync();

    /// <summary>An abrupt end (SIGKILL for processes, immediate shutdown for Postgres), as a fault-injection test wants it.</summary>
    public abstract Task KillAsync();

    public virtual async Task RestartAsync(CancellationToken cancellationToken)
    {
        await StopAsync();
        await StartAsync(cancellationToken);
    }

    protected void SetState(string state, string? message = null) =>
        Context.Notifications.Update(Name, s => s with { State = state, Message = message ?? (ResourceStates.IsTerminal(state) || state == ResourceStates.RuntimeUnhealthy ? s.Message : null) });

    protected void Log(string line, bool isError = false) => Context.AppendLog(Name, line, isError);
}
