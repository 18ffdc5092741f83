using System.Globalization;
using System.Text;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>NBomber's csv: one row per step under its header.</summary>
internal static class CsvReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static string F(double value, int decimals = 2) => ReportWriter.F(value, decimals);

    public static string Render(ReportModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine(ReportWriter.CsvHeader);
        foreach (var scenario in model.Scenarios)
        {
            foreach (var step in scenario.Steps)
            {
                string[] fields =
                [
                    model.TestSuite, model.TestName, scenario.Name, Durations.Format(scenario.Duration), step.Name,
                    step.RequestCount.ToString(Invariant), step.Ok.ToString(Invariant), step.Failed.ToString(Invariant), F(step.OkRps, 1),
                    F(step.Latency.MinMs), F(step.Latency.MeanMs), F(step.Latency.MaxMs), F(step.Latency.P50Ms), F(step.Latency.P75Ms),
                    F(step.Latency.P95Ms), F(step.Latency.P99Ms), F(step.Latency.StdDevMs),
                    F(step.DataMinKb, 3), F(step.DataMeanKb, 3), F(step.DataMaxKb, 3), F(step.DataAllMb, 3),
                ];
                sb.AppendLine(string.Join(",", fields.Select(CsvField)));
            }
        }

        return sb.ToString();
    }

    internal static string CsvField(string value) =>
        value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;


    /// <summary>The per-second timeline, one row a second, header first.</summary>
    public static string Timeline(IReadOnlyList<IReadOnlyList<string>> rows)
        => string.Join("\n", rows.Select(row => string.Join(",", row.Select(CsvField)))) + "\n";
}
