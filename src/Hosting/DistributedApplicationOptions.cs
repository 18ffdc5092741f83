namespace PgVideoChat.Hosting;

/// <summary>How an app model runs: interactively (the AppHost) or under a test.</summary>
public sealed class DistributedApplicationOptions
{
    public string[] Args { get; set; } = [];

    /// <summary>No dashboard HTTP endpoint at all.</summary>
    public bool DisableDashboard { get; set; }

    /// <summary>Fixed ports of endpoints and the dashboard are replaced by free ones (as Aspire's testing builder does).</summary>
    public bool RandomizePorts { get; set; }

    /// <summary>Prints every resource's console output with its name; tests read logs through <see cref="Orchestration.ResourceLoggerService"/> instead.</summary>
    public bool EchoResourceOutput { get; set; } = true;
}
