using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.LoadTests.Substrate;

namespace PgVideoChat.LoadTests;

/// <summary>
/// The runner's public entry: each command as a method (tests call these in-process), and <see cref="MainAsync"/>
/// for the command line. Exit codes: 0 thresholds held, 1 they did not, 2 an error.
/// </summary>
public static class LoadRunner
{
    /// <summary>Scenario <c>calls</c>: warm-up, load simulations, drain; reports in <c>reports/&lt;session&gt;/</c>.</summary>
    public static Task<RunResult<CallsSummary>> RunCallsAsync(CallsRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CallsRunner.RunAsync(options, cancellationToken);
    }

    /// <summary>More calls level by level; the largest level that held the thresholds for the hold time.</summary>
    public static Task<RunResult<CapacitySummary>> RunCapacityAsync(CapacityOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CapacityRunner.RunAsync(options, cancellationToken);
    }

    /// <summary>The substrate's limit: frame rows straight into Postgres while a plain pgoutput reader drains them.</summary>
    public static Task<RunResult<BaselineSummary>> RunBaselineAsync(BaselineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return BaselineRunner.RunAsync(options, cancellationToken);
    }

    /// <summary>DELETE-based retention against dropping time partitions, on scratch tables.</summary>
    public static Task<RunResult<RetentionSummary>> RunRetentionAsync(RetentionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RetentionRunner.RunAsync(options, cancellationToken);
    }

    /// <summary>The command line (what <c>dotnet run --project tests/LoadTests -- …</c> runs).</summary>
    public static Task<int> MainAsync(string[] args, CancellationToken cancellationToken = default) => Cli.InvokeAsync(args, cancellationToken);
}
