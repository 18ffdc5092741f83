using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>
/// Writes a session's reports the way NBomber lays them out: <c>&lt;session&gt;.txt</c>, <c>.md</c>, <c>.csv</c>
/// (NBomber's header) and <c>.html</c> (inline SVG charts, no external scripts), plus <c>summary.json</c> and,
/// when there is one, <c>timeline.csv</c> (one row a second).
/// </summary>
public static class ReportWriter
{
    public const string CsvHeader = "test_suite,test_name,scenario,duration,step_name,request_count,ok,failed,rps,min,mean,max,50_percent,75_percent,95_percent,99_percent,std_dev,data_transfer_min_kb,data_transfer_mean_kb,data_transfer_max_kb,data_transfer_all_mb";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The reports folder: the option, or <c>reports/</c> at the repository root (found by its .sln), or the current folder.</summary>
    public static string ReportsRoot(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "PgVideoChat.sln")))
                {
                    return Path.Combine(dir.FullName, "reports");
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), "reports");
    }

    /// <summary>NBomber's session id shape: <c>2025-11-25_12.00.00_session_1a2b3c4d</c>.</summary>
    public static string NewSessionId() =>
        DateTime.Now.ToString("yyyy-MM-dd_HH.mm.ss", Invariant) + "_session_" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Writes every file into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(ReportModel model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        var baseName = Path.Combine(directory, model.SessionId);
        var files = new List<string>
        {
            WriteFile(baseName + ".txt", Text(model)),
            WriteFile(baseName + ".md", Markdown(model)),
            WriteFile(baseName + ".csv", Csv(model)),
            WriteFile(baseName + ".html", Html(model)),
            WriteFile(Path.Combine(directory, "summary.json"), JsonSerializer.Serialize(model.Summary, model.Summary.GetType(), JsonOptions) + "\n"),
        };
        if (model.Timeline.Count > 0)
        {
            files.Add(WriteFile(Path.Combine(directory, "timeline.csv"), string.Join("\n", model.Timeline.Select(row => string.Join(",", row.Select(CsvField)))) + "\n"));
        }

        return files;
    }

    private static string WriteFile(string path, string content)
    {
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    public static string F(double value, int decimals = 2) =>
        double.IsFinite(value) ? Math.Round(value, decimals).ToString("0.##########", Invariant) : "0";

    private static string Text(ReportModel model)
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

    private static List<KeyValuePair<string, string>> OkRows(StepReport step, TimeSpan duration)
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

    private static List<KeyValuePair<string, string>> FailRows(StepReport step) =>
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

    private static string Markdown(ReportModel model)
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
                foreach (var (key, value) in OkRows(step, scenario.Duration))
                {
                    sb.AppendLine(Invariant, $"|{key}|{MdValue(key, value)}|");
                }

                sb.AppendLine();
                if (step.Failed > 0)
                {
                    sb.AppendLine("|step|fail stats|");
                    sb.AppendLine("|---|---|");
                    foreach (var (key, value) in FailRows(step))
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

    private static string Csv(ReportModel model)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CsvHeader);
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

    private static string CsvField(string value) =>
        value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static string Html(ReportModel model)
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
                sb.AppendLine(Svg(chart));
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

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A line chart as inline SVG: axes with rounded ticks, one polyline per series, a legend.</summary>
    public static string Svg(Chart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        const int width = 560, height = 240, left = 64, right = 12, top = 10, bottom = 30;
        var points = chart.Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var sb = new StringBuilder();
        sb.AppendLine(Invariant, $"<div class=\"chart\"><h3>{E(chart.Title)}</h3>");
        sb.AppendLine(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{E(chart.Title)}\">");
        if (points.Count == 0)
        {
            sb.AppendLine("<text x=\"200\" y=\"120\" fill=\"#888\">no data</text></svg></div>");
            return sb.ToString();
        }

        var minX = points.Min(p => p.X);
        var maxX = Math.Max(points.Max(p => p.X), minX + 1);
        var maxY = NiceCeiling(Math.Max(points.Max(p => p.Y), 1e-9));
        double X(double x) => left + ((x - minX) / (maxX - minX) * (width - left - right));
        double Y(double y) => top + ((1 - (y / maxY)) * (height - top - bottom));

        for (var i = 0; i <= 4; i++)
        {
            var value = maxY * i / 4;
            var y = Y(value);
            sb.AppendLine(Invariant, $"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#e6e9ef\"/>");
            sb.AppendLine(Invariant, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6473\">{E(Short(value))}</text>");
        }

        for (var i = 0; i <= 5; i++)
        {
            var value = minX + ((maxX - minX) * i / 5);
            var x = X(value);
            sb.AppendLine(Invariant, $"<text x=\"{x:0.#}\" y=\"{height - 12}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6473\">{E(Short(value))}</text>");
        }

        sb.AppendLine(Invariant, $"<text x=\"{width - right}\" y=\"{height - 1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#8a93a3\">{E(chart.XLabel)}</text>");
        sb.AppendLine(Invariant, $"<text x=\"4\" y=\"{top + 8}\" font-size=\"10\" fill=\"#8a93a3\">{E(chart.YLabel)}</text>");
        sb.AppendLine(Invariant, $"<rect x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{height - top - bottom}\" fill=\"none\" stroke=\"#c9d0db\"/>");
        foreach (var series in chart.Series)
        {
            var path = string.Join(" ", series.Points.Where(p => double.IsFinite(p.Y)).Select(p => string.Create(Invariant, $"{X(p.X):0.#},{Y(Math.Min(p.Y, maxY)):0.#}")));
            if (path.Length > 0)
            {
                sb.AppendLine(Invariant, $"<polyline fill=\"none\" stroke=\"{series.Color}\" stroke-width=\"1.6\" points=\"{path}\"><title>{E(series.Name)}</title></polyline>");
            }
        }

        sb.AppendLine("</svg><div class=\"legend\">");
        foreach (var series in chart.Series)
        {
            sb.AppendLine(Invariant, $"<span><i style=\"background:{series.Color}\"></i>{E(series.Name)}</span>");
        }

        sb.AppendLine("</div></div>");
        return sb.ToString();
    }

    private static double NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string Short(double value) => Math.Abs(value) switch
    {
        >= 1e9 => F(value / 1e9, 1) + "G",
        >= 1e6 => F(value / 1e6, 1) + "M",
        >= 1e4 => F(value / 1e3, 1) + "k",
        _ => F(value, 1),
    };
}
