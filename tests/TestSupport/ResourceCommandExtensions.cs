using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace PgVideoChat.TestSupport;

/// <summary>
/// Start, stop and restart a resource through Aspire's own commands (what the dashboard's buttons run), returning
/// only once the outcome can be relied on: Aspire's commands return when DCP has been asked, not when the process
/// has started or is gone.
/// </summary>
public static class ResourceCommandExtensions
{
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Starts a stopped resource and waits until it runs (its pid is then known; its health is the caller's to await).</summary>
    public static async Task StartResourceAsync(this DistributedApplication app, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(name);
        await ExecuteAsync(app, name, KnownResourceCommands.StartCommand, cancellationToken);
        await WaitUntilRunningAsync(app, name, previousPid: null, cancellationToken);
    }

    /// <summary>
    /// Stops a resource and waits until it has ended (Finished or Exited) and its processes are gone, so that the
    /// caller can rely on its port, its connections and its replication slot being released.
    /// </summary>
    public static async Task StopResourceAsync(this DistributedApplication app, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(name);
        var processes = ProcessesOf(app, name);
        await ExecuteAsync(app, name, KnownResourceCommands.StopCommand, cancellationToken);
        await ResourceWait.UntilAsync(app, name, s => s.IsTerminal(), "stop", StateTimeout, cancellationToken);
        await EnsureGoneAsync(name, processes, "stopped", cancellationToken);
    }

    /// <summary>
    /// Restarts a resource and waits until its new process runs (a different pid from before); its health is the
    /// caller's to await. Restarted, it keeps its name, ports and environment.
    /// </summary>
    public static async Task RestartResourceAsync(this DistributedApplication app, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(name);
        var processes = ProcessesOf(app, name);
        await ExecuteAsync(app, name, KnownResourceCommands.RestartCommand, cancellationToken);
        await WaitUntilRunningAsync(app, name, processes.Count > 0 ? processes[0] : null, cancellationToken);
        await EnsureGoneAsync(name, processes, "restarted", cancellationToken);
    }

    internal static async Task WaitUntilRunningAsync(DistributedApplication app, string name, int? previousPid, CancellationToken cancellationToken)
    {
        // A restart stops the old process first: its "Finished, exit code 0" can still be the current state when the
        // command returns. A terminal state is the new process's only once the resource was seen starting again, or
        // when it names another pid.
        var restarted = previousPid is null;
        bool Settled(CustomResourceSnapshot s)
        {
            var pid = s.GetReportedProcessId();
            if (!s.IsTerminal())
            {
                var isNew = s.IsRunning() && pid is not null && pid != previousPid;
                restarted |= isNew || s.State?.Text == KnownResourceStates.Starting || s.State?.Text == KnownResourceStates.Waiting;
                return isNew;
            }

            return restarted || (pid is not null && pid != previousPid);
        }

        var snapshot = await ResourceWait.UntilAsync(app, name, Settled, "run", StateTimeout, cancellationToken);
        if (snapshot.IsTerminal())
        {
            throw new InvalidOperationException($"'{name}' did not start: it is {snapshot.Describe()}.\n{ResourceWait.Tail(app, name)}");
        }
    }

    internal static async Task EnsureGoneAsync(string name, IReadOnlyList<int> processes, string what, CancellationToken cancellationToken)
    {
        if (!await ProcFs.WaitUntilGoneAsync(processes, ExitTimeout, cancellationToken))
        {
            var survivors = processes.Where(ProcFs.IsAlive).Select(ProcFs.Describe);
            throw new InvalidOperationException($"'{name}' was {what}, but {ExitTimeout.TotalSeconds:F0} s later these of its processes still run: {string.Join("; ", survivors)}");
        }
    }

    /// <summary>The resource's process tree now (DCP's pid first), to check afterwards that all of it went away.</summary>
    internal static IReadOnlyList<int> ProcessesOf(DistributedApplication app, string name) =>
        app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent) && !resourceEvent.Snapshot.IsTerminal()
            && resourceEvent.Snapshot.GetReportedProcessId() is { } pid
            ? ProcFs.TreeOf(pid)
            : [];

    private static async Task ExecuteAsync(DistributedApplication app, string name, string command, CancellationToken cancellationToken)
    {
        var result = await app.ResourceCommands.ExecuteCommandAsync(name, command, cancellationToken);
        if (!result.Success)
        {
            var reason = result.Message ?? (result.Canceled ? "it was canceled" : "no reason given");
            throw new InvalidOperationException($"The {command} command on '{name}' failed: {reason} ('{name}' is {ResourceWait.Describe(app, name)}).");
        }
    }
}
