using System.Globalization;
using System.Text;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>NBomber's console/txt layout: test info, then per scenario boxed step tables, thresholds and sections.</summary>
internal static class TextReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static string F(double value, int decimals = 2) => ReportWriter.F(value, decimals);

    public static string Render(ReportModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine("test info");
        sb.AppendLine(Invariant, $"test suite: {model.TestSuite}");
        sb.AppendLine(Invariant, $"test name: {model.TestName}");
        sb.AppendLine(Invariant, $"session id: {model.SessionId}");
        sb.AppendLine(Invariant, $"command: {model.Command}");
        sb.AppendLine(Invariant, $"target: {model.Target}");
        sb.AppendLine(Invariant, $"started: {model.StartedAt:yyyy-MM-dd HH:mm:ss zzz}");
        sb.AppendLine();
        foreach (var scenario in model.Scenarios)
        {
            sb.AppendLine(Invariant, $"scenario: {scenario.Name}");
            sb.AppendLine(Invariant, $"  - ok count: {scenario.OkCount}");
            sb.AppendLine(Invariant, $"  - fail count: {scenario.FailCount}");
            sb.AppendLine(Invariant, $"  - all data: {F(scenario.AllDataMb, 1)} MB");
            sb.AppendLine(Invariant, $"  - duration: {Durations.Format(scenario.Duration)}");
            sb.AppendLine();
            if (scenario.Simulations.Count > 0)
            {
                sb.AppendLine("load simulations:");
                foreach (var simulation in scenario.Simulations)
                {
                    sb.AppendLine(Invariant, $"  - {simulation}");
                }

                sb.AppendLine();
            }

            foreach (var step in scenario.Steps)
            {
                sb.Append(Box("step", "ok stats", OkRows(step, scenario.Duration)));
                if (step.Failed > 0)
                {
                    sb.Append(Box("step", "fail stats", FailRows(step)));
                }

                if (step.Note is not null)
                {
                    sb.AppendLine(Invariant, $"  ({step.Note})");
                }

                sb.AppendLine();
            }
        }

        if (model.Thresholds is { } thresholds)
        {
            sb.AppendLine(Invariant, $"thresholds: {thresholds} -> {(model.Passed ? "passed" : "FAILED")}");
            foreach (var failure in model.Failures)
            {
                sb.AppendLine(Invariant, $"  - {failure}");
            }

            sb.AppendLine();
        }

        foreach (var section in model.Sections)
        {
            sb.Append(Box(section.Title, "value", section.Rows));
            sb.AppendLine();
        }

        return sb.ToString();
    }

    internal static List<KeyValuePair<string, string>> OkRows(StepReport step, TimeSpan duration)
    {
        _ = duration;
        return
        [
            new("name", step.Name),
            new("request count", $"all = {step.RequestCount}, ok = {step.Ok}, RPS = {F(step.OkRps, 1)}"),
            new("latency (ms)", $"min = {F(step.Latency.MinMs)}, mean = {F(step.Latency.MeanMs)}, max = {F(step.Latency.MaxMs)}, StdDev = {F(step.Latency.StdDevMs)}"),
            new("latency percentile (ms)", $"p50 = {F(step.Latency.P50Ms)}, p75 = {F(step.Latency.P75Ms)}, p95 = {F(step.Latency.P95Ms)}, p99 = {F(step.Latency.P99Ms)}"),
            new("data transfer (KB)", $"min = {F(step.DataMinKb, 3)}, mean = {F(step.DataMeanKb, 3)}, max = {F(step.DataMaxKb, 3)}, all = {F(step.DataAllMb, 3)} MB"),
        ];
    }

    internal static List<KeyValuePair<string, string>> FailRows(StepReport step) =>
    [
        new("name", step.Name),
        new("request count", $"all = {step.RequestCount}, fail = {step.Failed}, RPS = {F(step.FailRps, 1)}"),
        new("latency (ms)", "min = 0, mean = 0, max = 0, StdDev = 0"),
        new("latency percentile (ms)", "p50 = 0, p75 = 0, p95 = 0, p99 = 0"),
    ];

    private static string Box(string left, string right, IReadOnlyList<KeyValuePair<string, string>> rows)
    {
        var leftWidth = Math.Max(left.Length, rows.Count == 0 ? 0 : rows.Max(r => r.Key.Length)) + 2;
        var rightWidth = Math.Max(right.Length, rows.Count == 0 ? 0 : rows.Max(r => r.Value.Length)) + 2;
        var sb = new StringBuilder();
        sb.Append('┌').Append('─', leftWidth).Append('┬').Append('─', rightWidth).AppendLine("┐");
        sb.Append("│ ").Append(left.PadRight(leftWidth - 1)).Append("│ ").Append(right.PadRight(rightWidth - 1)).AppendLine("│");
        sb.Append('├').Append('─', leftWidth).Append('┼').Append('─', rightWidth).AppendLine("┤");
        foreach (var (key, value) in rows)
        {
            sb.Append("│ ").Append(key.PadRight(leftWidth - 1)).Append("│ ").Append(value.PadRight(rightWidth - 1)).AppendLine("│");
        }

        sb.Append('└').Append('─', leftWidth).Append('┴').Append('─', rightWidth).AppendLine("┘");
        return sb.ToString();
    }
}
