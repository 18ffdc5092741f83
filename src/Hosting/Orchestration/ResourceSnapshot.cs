namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Aspire's resource states (KnownResourceStates).</summary>
public static class ResourceStates
{
    public const string NotStarted = "NotStarted";
    public const string Waiting = "Waiting";
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string FailedToStart = "FailedToStart";
    public const string RuntimeUnhealthy = "RuntimeUnhealthy";
    public const string Stopping = "Stopping";
    public const string Exited = "Exited";
    public const string Finished = "Finished";

    public static bool IsTerminal(string state) => state is FailedToStart or Exited or Finished;
}

public enum HealthStatus
{
    Unknown,
    Unhealthy,
    Healthy,
}

/// <summary>A resource's state at one moment, as the dashboard and <c>/api/resources</c> show it.</summary>
public sealed record ResourceSnapshot
{
    public required string Name { get; init; }

    public required string Type { get; init; }

    public string State { get; init; } = ResourceStates.NotStarted;

    public HealthStatus Health { get; init; } = HealthStatus.Unknown;

    public int? ProcessId { get; init; }

    public DateTimeOffset? StartTime { get; init; }

    public DateTimeOffset? StopTime { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>Endpoint name → URL.</summary>
    public IReadOnlyDictionary<string, string> Urls { get; init; } = new Dictionary<string, string>();

    public string? ConnectionString { get; init; }

    /// <summary>The environment the process was started with (values of secrets included; the dashboard masks them).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Why it failed or is unhealthy, in one line.</summary>
    public string? Message { get; init; }

    /// <summary>Names of resources this one waits for.</summary>
    public IReadOnlyList<string> WaitsFor { get; init; } = [];

    public bool IsHealthy => State == ResourceStates.Running && Health == HealthStatus.Healthy;
}
