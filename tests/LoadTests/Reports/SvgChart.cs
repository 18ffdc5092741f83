using System.Globalization;
using System.Text;

namespace PgVideoChat.LoadTests.Reports;

/// <summary>A line chart as inline SVG, for the html report.</summary>
internal static class SvgChart
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static string F(double value, int decimals = 2) => ReportWriter.F(value, decimals);

    /// <summary>Axes with rounded ticks, one polyline per series, a legend.</summary>
    public static string Render(Chart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        const int width = 560, height = 240, left = 64, right = 12, top = 10, bottom = 30;
        var points = chart.Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var sb = new StringBuilder();
        sb.AppendLine(Invariant, $"<div class=\"chart\"><h3>{HtmlReport.E(chart.Title)}</h3>");
        sb.AppendLine(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{HtmlReport.E(chart.Title)}\">");
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
            sb.AppendLine(Invariant, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5a6473\">{HtmlReport.E(Short(value))}</text>");
        }

        for (var i = 0; i <= 5; i++)
        {
            var value = minX + ((maxX - minX) * i / 5);
            var x = X(value);
            sb.AppendLine(Invariant, $"<text x=\"{x:0.#}\" y=\"{height - 12}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#5a6473\">{HtmlReport.E(Short(value))}</text>");
        }

        sb.AppendLine(Invariant, $"<text x=\"{width - right}\" y=\"{height - 1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#8a93a3\">{HtmlReport.E(chart.XLabel)}</text>");
        sb.AppendLine(Invariant, $"<text x=\"4\" y=\"{top + 8}\" font-size=\"10\" fill=\"#8a93a3\">{HtmlReport.E(chart.YLabel)}</text>");
        sb.AppendLine(Invariant, $"<rect x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{height - top - bottom}\" fill=\"none\" stroke=\"#c9d0db\"/>");
        foreach (var series in chart.Series)
        {
            var path = string.Join(" ", series.Points.Where(p => double.IsFinite(p.Y)).Select(p => string.Create(Invariant, $"{X(p.X):0.#},{Y(Math.Min(p.Y, maxY)):0.#}")));
            if (path.Length > 0)
            {
                sb.AppendLine(Invariant, $"<polyline fill=\"none\" stroke=\"{series.Color}\" stroke-width=\"1.6\" points=\"{path}\"><title>{HtmlReport.E(series.Name)}</title></polyline>");
            }
        }

        sb.AppendLine("</svg><div class=\"legend\">");
        foreach (var series in chart.Series)
        {
            sb.AppendLine(Invariant, $"<span><i style=\"background:{series.Color}\"></i>{HtmlReport.E(series.Name)}</span>");
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
