using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>
/// Writes a session's reports (one writer per format) the way NBomber lays them out: <c>&lt;session&gt;.txt</c>, <c>.md</c>, <c>.csv</c>
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
            WriteFile(baseName + ".txt", TextReport.Render(model)),
            WriteFile(baseName + ".md", MarkdownReport.Render(model)),
            WriteFile(baseName + ".csv", CsvReport.Render(model)),
            WriteFile(baseName + ".html", HtmlReport.Render(model)),
            WriteFile(Path.Combine(directory, "summary.json"), JsonSerializer.Serialize(model.Summary, model.Summary.GetType(), JsonOptions) + "\n"),
        };
        if (model.Timeline.Count > 0)
        {
            files.Add(WriteFile(Path.Combine(directory, "timeline.csv"), CsvReport.Timeline(model.Timeline)));
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

    /// <summary>A line chart as inline SVG: axes with rounded ticks, one polyline per series, a legend.</summary>
    public static string Svg(Chart chart) => SvgChart.Render(chart);
}
