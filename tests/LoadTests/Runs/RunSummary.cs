using PgVideoChat.LoadTests.Monitoring;

namespace PgVideoChat.LoadTests.Runs;

/// <summary>
/// What every <c>summary.json</c> holds besides the command's own figures: which command ran, as which session, when,
/// against what, on which host, and how it ended. <see cref="RunSession.Stamp"/> fills it in.
/// </summary>
public abstract record RunSummary
{
    protected RunSummary(string command) => Command = command;

    public string Command { get; init; }

    public string SessionId { get; init; } = string.Empty;

    public string Target { get; init; } = string.Empty;

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The operating-system settings the run was measured with (<see cref="HostFacts"/>).</summary>
    public HostFacts? Host { get; init; }

    /// <summary>0 when the thresholds held, 1 when they did not (<see cref="Scenario.CallsRunner.ExitPassed"/>).</summary>
    public int ExitCode { get; init; }
}
