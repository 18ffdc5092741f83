using PgVideoChat.LoadTests.Runs;
using PgVideoChat.LoadTests.Scenario;

namespace PgVideoChat.LoadTests.Substrate;

/// <summary>One writer mode of the baseline.</summary>
public sealed record BaselinePhase(
    string Name,
    string Writer,
    double WriteSeconds,
    long RowsWritten,
    long VideoRows,
    long AudioRows,
    double RowsWrittenPerSecond,
    double MbWrittenPerSecond,
    long RowsDecoded,
    double DecodeSeconds,
    double RowsDecodedPerSecond,
    double MbDecodedPerSecond,
    bool ReaderKeptUp,
    double? ReaderCatchUpSeconds,
    LatencyPercentiles InsertLatencyMs,
    LatencyPercentiles InsertToDecodeLatencyMs,
    long WalBytes,
    double WalBytesPerRow,
    double? PostgresMeanCpuPercent,
    double? MachineMeanCpuPercent,
    double? StealMeanPercent,
    double EquivalentCalls);

/// <summary>What <c>summary.json</c> holds for <c>baseline</c>.</summary>
public sealed record BaselineSummary() : RunSummary("baseline")
{
    public bool RelayStopped { get; init; }

    public int PgOutputProtocolVersion { get; init; }

    public int Writers { get; init; }

    public int BatchSize { get; init; }

    public string RowMix { get; init; } = string.Empty;

    /// <summary>Rows per second that one call of the standard profile writes (participants × (video fps + audio fps)).</summary>
    public double RowsPerSecondPerCall { get; init; }

    public double MbPerSecondPerCall { get; init; }

    public IReadOnlyList<BaselinePhase> Phases { get; init; } = [];

}
