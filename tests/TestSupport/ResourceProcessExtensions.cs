using Aspire.Hosting;

namespace PgVideoChat.TestSupport;

/// <summary>A resource's operating-system process: what tests measure in /proc, and what a crash test kills.</summary>
public static class ResourceProcessExtensions
{
    private static readonly TimeSpan TerminalTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The pid of the resource's application while it runs: the relay's own process, not the <c>dotnet run</c> that
    /// DCP started for it (whose memory, CPU and file handles say nothing about the relay); Postgres's postmaster, not
    /// the shell wrapper it runs under. Null when the resource has no process.
    /// </summary>
    public static int? GetProcessId(this DistributedApplication app, string name)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(name);
        return app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent) && !resourceEvent.Snapshot.IsTerminal()
            && resourceEvent.Snapshot.GetReportedProcessId() is { } pid && ProcFs.IsAlive(pid)
            ? ProcFs.ApplicationProcess(pid)
            : null;
    }

    /// <summary>
    /// Kills the resource as a crash would: SIGKILL to its application (the relay itself, or Postgres's postmaster)
    /// and everything that application started (Postgres's backends, which would otherwise hold its shared memory
    /// and block the next start). The launcher DCP started (<c>dotnet run</c>, Postgres's wrapper) is left to exit by
    /// itself, as it does when its child dies: killed first, it would leave the application running. Returns once every process is gone and Aspire shows the
    /// resource ended, so that the caller can start it again.
    /// </summary>
    public static async Task KillResourceAsync(this DistributedApplication app, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(name);
        var launched = ResourceCommandExtensions.ProcessesOf(app, name);
        if (launched.Count == 0)
        {
            throw new InvalidOperationException($"'{name}' has no process to kill: it is {ResourceWait.Describe(app, name)}.");
        }

        // Parents first: a postmaster that saw its backends die would fork a recovery process before its own turn.
        var application = ProcFs.TreeOf(ProcFs.ApplicationProcess(launched[0]));
        ProcFs.Kill(application);
        await ResourceCommandExtensions.EnsureGoneAsync(name, launched, "killed", cancellationToken);
        await ResourceWait.UntilAsync(app, name, s => s.IsTerminal(), "end after SIGKILL", TerminalTimeout, cancellationToken);
    }
}
