namespace PgVideoChat.Hosting.Processes;

/// <summary>What to run, as whom, and how to stop it.</summary>
internal sealed class ChildProcessOptions
{
    public required string FileName { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>An OS user to run as (used to run Postgres as <c>postgres</c> when the orchestrator is root).</summary>
    public string? RunAsUser { get; init; }

    /// <summary>The signal that asks the program to stop gracefully, and that it receives if the orchestrator dies.</summary>
    public int StopSignal { get; init; } = Signals.SIGTERM;

    /// <summary>Called for every line the program writes, on stdout (false) or stderr (true).</summary>
    public Action<string, bool>? OnOutput { get; init; }
}
