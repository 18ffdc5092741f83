using System.Globalization;
using System.Net;
using System.Text;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>A self-contained html page: summary, inline SVG charts over time, the step tables; no external scripts.</summary>
internal static class HtmlReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static string F(double value, int decimals = 2) => ReportWriter.F(value, decimals);

    public static string Render(ReportModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>");
        sb.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine(Invariant, $"<title>{E(model.TestName)} – {E(model.SessionId)}</title>");
        sb.AppendLine("""
            <style>
            body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
            h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
            .meta{color:#5a6473;font-size:13px} table{border-collapse:collapse;margin:8px 0 16px;font-size:13px;background:#fff}
            td,th{border:1px solid #dde2ea;padding:4px 10px;text-align:left} th{background:#eef1f6}
            .ok{color:#177245;font-weight:600} .fail{color:#b3261e;font-weight:600}
            .charts{display:flex;flex-wrap:wrap;gap:16px} .chart{background:#fff;border:1px solid #dde2ea;padding:8px}
            .chart h3{font-size:14px;margin:0 0 4px} .legend span{display:inline-block;margin-right:12px;font-size:12px}
            .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
            </style></head><body>
            """);
        sb.AppendLine(Invariant, $"<h1>{E(model.TestSuite)} / {E(model.TestName)}</h1>");
        sb.AppendLine(Invariant, $"<div class=\"meta\">session <code>{E(model.SessionId)}</code> · command <code>{E(model.Command)}</code> · {E(model.Target)} · started {model.StartedAt:yyyy-MM-dd HH:mm:ss zzz}</div>");
        if (model.Thresholds is { } thresholds)
        {
            sb.AppendLine(Invariant, $"<p>thresholds <code>{E(thresholds.ToString())}</code>: <span class=\"{(model.Passed ? "ok" : "fail")}\">{(model.Passed ? "passed" : "FAILED")}</span></p>");
            if (model.Failures.Count > 0)
            {
                sb.AppendLine("<ul>");
                foreach (var failure in model.Failures)
                {
                    sb.AppendLine(Invariant, $"<li>{E(failure)}</li>");
                }

                sb.AppendLine("</ul>");
            }
        }

        if (model.Charts.Count > 0)
        {
            sb.AppendLine("<h2>over time</h2><div class=\"charts\">");
            foreach (var chart in model.Charts)
            {
                sb.AppendLine(SvgChart.Render(chart));
            }

            sb.AppendLine("</div>");
        }

        foreach (var scenario in model.Scenarios)
        {
            sb.AppendLine(Invariant, $"<h2>scenario: {E(scenario.Name)}</h2>");
            sb.AppendLine(Invariant, $"<p class=\"meta\">ok {scenario.OkCount} · fail {scenario.FailCount} · all data {F(scenario.AllDataMb, 1)} MB · duration {Durations.Format(scenario.Duration)}</p>");
            if (scenario.Simulations.Count > 0)
            {
                sb.AppendLine("<table><tr><th>load simulation</th><th>copies</th><th>during</th></tr>");
                foreach (var simulation in scenario.Simulations)
                {
                    sb.AppendLine(Invariant, $"<tr><td>{simulation.Name}</td><td>{simulation.Calls}</td><td>{Durations.Format(simulation.During)}</td></tr>");
                }

                sb.AppendLine("</table>");
            }

            sb.AppendLine("<table><tr><th>step</th><th>request count</th><th>ok</th><th>failed</th><th>RPS</th><th>min</th><th>mean</th><th>max</th><th>StdDev</th><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>data min/mean/max KB</th><th>all MB</th></tr>");
            foreach (var step in scenario.Steps)
            {
                var l = step.Latency;
                sb.AppendLine(Invariant, $"<tr><td>{E(step.Name)}</td><td>{step.RequestCount}</td><td>{step.Ok}</td><td class=\"{(step.Failed > 0 ? "fail" : string.Empty)}\">{step.Failed}</td><td>{F(step.OkRps, 1)}</td><td>{F(l.MinMs)}</td><td>{F(l.MeanMs)}</td><td>{F(l.MaxMs)}</td><td>{F(l.StdDevMs)}</td><td>{F(l.P50Ms)}</td><td>{F(l.P75Ms)}</td><td>{F(l.P95Ms)}</td><td>{F(l.P99Ms)}</td><td>{F(step.DataMinKb, 2)} / {F(step.DataMeanKb, 2)} / {F(step.DataMaxKb, 2)}</td><td>{F(step.DataAllMb, 2)}</td></tr>");
            }

            sb.AppendLine("</table>");
            foreach (var step in scenario.Steps.Where(s => s.Note is not null))
            {
                sb.AppendLine(Invariant, $"<p class=\"meta\">{E(step.Name)}: {E(step.Note!)}</p>");
            }
        }

        foreach (var section in model.Sections)
        {
            sb.AppendLine(Invariant, $"<h2>{E(section.Title)}</h2><table>");
            foreach (var (key, value) in section.Rows)
            {
                sb.AppendLine(Invariant, $"<tr><th>{E(key)}</th><td>{E(value)}</td></tr>");
            }

            sb.AppendLine("</table>");
        }

        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    internal static string E(string text) => WebUtility.HtmlEncode(text);
}
