using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>NBomber's per-step figures: ok and fail requests, RPS, latency and data transfer.</summary>
public sealed record StepReport
{
    public required string Name { get; init; }

    public long Ok { get; init; }

    public long Failed { get; init; }

    public long RequestCount => Ok + Failed;

    public double OkRps { get; init; }

    public double FailRps { get; init; }

    public LatencySummary Latency { get; init; } = LatencySummary.Empty;

    public double DataMinKb { get; init; }

    public double DataMeanKb { get; init; }

    public double DataMaxKb { get; init; }

    public double DataAllMb { get; init; }

    /// <summary>What "request", "ok" and "fail" mean for this step, printed under it.</summary>
    public string? Note { get; init; }
}

/// <summary>One scenario of a report (the <c>calls</c> run, or one capacity level, or one baseline phase).</summary>
public sealed record ScenarioReport
{
    public required string Name { get; init; }

    public TimeSpan Duration { get; init; }

    public IReadOnlyList<LoadSimulation> Simulations { get; init; } = [];

    public IReadOnlyList<StepReport> Steps { get; init; } = [];

    public long OkCount => Steps.Sum(s => s.Ok);

    public long FailCount => Steps.Sum(s => s.Failed);

    public double AllDataMb => Steps.Sum(s => s.DataAllMb);
}

/// <summary>A block of extra figures (key → value) after the NBomber-style tables.</summary>
public sealed record ReportSection(string Title, IReadOnlyList<KeyValuePair<string, string>> Rows);

/// <summary>A line chart for the HTML report.</summary>
public sealed record Chart(string Title, string YLabel, IReadOnlyList<ChartSeries> Series, string XLabel = "s");

public sealed record ChartSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points);

/// <summary>Everything a report shows, whichever command produced it.</summary>
public sealed record ReportModel
{
    public required string Command { get; init; }

    public required string SessionId { get; init; }

    public required string TestSuite { get; init; }

    public required string TestName { get; init; }

    public required string Target { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public IReadOnlyList<ScenarioReport> Scenarios { get; init; } = [];

    public IReadOnlyList<ReportSection> Sections { get; init; } = [];

    public IReadOnlyList<Chart> Charts { get; init; } = [];

    public Thresholds? Thresholds { get; init; }

    public bool Passed { get; init; } = true;

    public IReadOnlyList<string> Failures { get; init; } = [];

    /// <summary>Serialised as <c>summary.json</c>.</summary>
    public required object Summary { get; init; }

    /// <summary>Rows of <c>timeline.csv</c> (header first); empty for none.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Timeline { get; init; } = [];
}
