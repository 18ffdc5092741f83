using System.Globalization;
using System.Text;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>NBomber's markdown layout: the same tables as the text report, each figure in backticks.</summary>
internal static class MarkdownReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static string F(double value, int decimals = 2) => ReportWriter.F(value, decimals);

    public static string Render(ReportModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# test info");
        sb.AppendLine();
        sb.AppendLine(Invariant, $"test suite: `{model.TestSuite}`");
        sb.AppendLine();
        sb.AppendLine(Invariant, $"test name: `{model.TestName}`");
        sb.AppendLine();
        sb.AppendLine(Invariant, $"session id: `{model.SessionId}`");
        sb.AppendLine();
        sb.AppendLine(Invariant, $"command: `{model.Command}`, target: {model.Target}, started: {model.StartedAt:yyyy-MM-dd HH:mm:ss zzz}");
        sb.AppendLine();
        foreach (var scenario in model.Scenarios)
        {
            sb.AppendLine(Invariant, $"# scenario: `{scenario.Name}`");
            sb.AppendLine();
            sb.AppendLine(Invariant, $"- ok count: `{scenario.OkCount}`");
            sb.AppendLine();
            sb.AppendLine(Invariant, $"- fail count: `{scenario.FailCount}`");
            sb.AppendLine();
            sb.AppendLine(Invariant, $"- all data: `{F(scenario.AllDataMb, 1)}` MB");
            sb.AppendLine();
            sb.AppendLine(Invariant, $"- duration: `{Durations.Format(scenario.Duration)}`");
            sb.AppendLine();
            if (scenario.Simulations.Count > 0)
            {
                sb.AppendLine("load simulations:");
                sb.AppendLine();
                foreach (var simulation in scenario.Simulations)
                {
                    sb.AppendLine(Invariant, $"- `{simulation.Name}`, copies: `{simulation.Calls}`, during: `{Durations.Format(simulation.During)}`");
                }

                sb.AppendLine();
            }

            foreach (var step in scenario.Steps)
            {
                sb.AppendLine("|step|ok stats|");
                sb.AppendLine("|---|---|");
                foreach (var (key, value) in TextReport.OkRows(step, scenario.Duration))
                {
                    sb.AppendLine(Invariant, $"|{key}|{MdValue(key, value)}|");
                }

                sb.AppendLine();
                if (step.Failed > 0)
                {
                    sb.AppendLine("|step|fail stats|");
                    sb.AppendLine("|---|---|");
                    foreach (var (key, value) in TextReport.FailRows(step))
                    {
                        sb.AppendLine(Invariant, $"|{key}|{MdValue(key, value)}|");
                    }

                    sb.AppendLine();
                }

                if (step.Note is not null)
                {
                    sb.AppendLine(Invariant, $"_{step.Note}_");
                    sb.AppendLine();
                }
            }
        }

        if (model.Thresholds is { } thresholds)
        {
            sb.AppendLine("# thresholds");
            sb.AppendLine();
            sb.AppendLine(Invariant, $"`{thresholds}`: **{(model.Passed ? "passed" : "FAILED")}**");
            sb.AppendLine();
            foreach (var failure in model.Failures)
            {
                sb.AppendLine(Invariant, $"- {failure}");
            }

            sb.AppendLine();
        }

        foreach (var section in model.Sections)
        {
            sb.AppendLine(Invariant, $"# {section.Title}");
            sb.AppendLine();
            sb.AppendLine("|name|value|");
            sb.AppendLine("|---|---|");
            foreach (var (key, value) in section.Rows)
            {
                sb.AppendLine(Invariant, $"|{key}|{value.Replace("|", "\\|", StringComparison.Ordinal)}|");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    /// <summary>NBomber's markdown puts each figure in backticks: <c>min = `1.2`</c>.</summary>
    private static string MdValue(string key, string value)
    {
        if (key == "name")
        {
            return $"`{value}`";
        }

        var parts = value.Split(", ");
        return string.Join(", ", parts.Select(p =>
        {
            var eq = p.IndexOf(" = ", StringComparison.Ordinal);
            if (eq < 0)
            {
                return p;
            }

            var rest = p[(eq + 3)..];
            var unit = rest.EndsWith(" MB", StringComparison.Ordinal) ? " MB" : string.Empty;
            return $"{p[..(eq + 3)]}`{rest[..^unit.Length]}`{unit}";
        }));
    }
}
