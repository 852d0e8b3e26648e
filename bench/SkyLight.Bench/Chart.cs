using System.Globalization;
using System.Net;
using System.Text;

namespace SkyLight.Bench;

/// <summary>
/// The results at a glance, as a self-contained SVG: throughput as a share of the bare framework (with the 60 % target)
/// and p99 latency on a logarithmic axis (with each scenario's target marked).
/// </summary>
internal static class Chart
{
    private const int Width = 900;
    private const int PanelHeight = 230;
    private const int Left = 210;
    private const int BarHeight = 22;

    public static string Svg(IReadOnlyList<ScenarioResult> results)
    {
        (string Label, double Value)[] ratios = [.. Pick(results, "%", m => m.Contains("ratio", StringComparison.Ordinal))];
        (string Label, double Value, double? Target)[] latencies = [.. Pick(results, "ms", m => m.Contains("p99", StringComparison.Ordinal))
            .Select(l => (l.Label, l.Value, Target: l.Label.StartsWith("S3", StringComparison.Ordinal) ? 50.0 : l.Label.StartsWith("S1", StringComparison.Ordinal) ? (double?)10 : null))];
        var height = 60 + (ratios.Length + latencies.Length) * (BarHeight + 8) + 120;
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">\n" +
            $"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        var y = 30;
        y = Panel(svg, y, "Throughput: % of the bare framework on the same machine (target ≥ 60 %)", ratios.Select(r => (r.Label, r.Value, (double?)60)).ToArray(),
            x => x / 100 * (Width - Left - 80), v => $"{v:0.#} %", axis: [0, 25, 50, 75, 100], axisLabel: v => $"{v} %");
        y += 30;
        Panel(svg, y, "Latency p99, ms (log scale; marks: the target)", latencies,
            x => Math.Log10(Math.Max(x, 1)) / 4 * (Width - Left - 80), v => $"{v:0.#} ms", axis: [1, 10, 100, 1000, 10000], axisLabel: v => $"{v}");
        return svg.Append("</svg>\n").ToString();
    }

    private static int Panel(StringBuilder svg, int y, string title, (string Label, double Value, double? Target)[] bars, Func<double, double> scale,
        Func<double, string> format, double[] axis, Func<double, string> axisLabel)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"{y}\" font-weight=\"bold\">{WebUtility.HtmlEncode(title)}</text>\n");
        y += 15;
        var top = y;
        foreach (var (label, value, target) in bars)
        {
            var width = Math.Max(1, scale(value));
            var met = target is null || (title.StartsWith("Throughput", StringComparison.Ordinal) ? value >= target : value <= target);
            svg.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{Left - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{WebUtility.HtmlEncode(label)}</text>\n" +
                $"<rect x=\"{Left}\" y=\"{y}\" width=\"{width:0.#}\" height=\"{BarHeight}\" fill=\"{(met ? "#3b7dd8" : "#d8693b")}\"/>\n" +
                $"<text x=\"{Left + width + 6:0.#}\" y=\"{y + 16}\">{format(value)}</text>\n");
            if (target is { } t)
            {
                var x = Left + scale(t);
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" x2=\"{x:0.#}\" y1=\"{y - 3}\" y2=\"{y + BarHeight + 3}\" stroke=\"black\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>\n");
            }
            y += BarHeight + 8;
        }
        foreach (var tick in axis)
        {
            var x = Left + scale(tick);
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{x:0.#}\" x2=\"{x:0.#}\" y1=\"{top - 4}\" y2=\"{y}\" stroke=\"#ccc\"/>\n<text x=\"{x:0.#}\" y=\"{y + 14}\" text-anchor=\"middle\" fill=\"#555\">{axisLabel(tick)}</text>\n");
        }
        return y + 20;
    }

    private static IEnumerable<(string Label, double Value)> Pick(IReadOnlyList<ScenarioResult> results, string unit, Func<string, bool> measure) =>
        results.Where(r => r.Unit == unit && measure(r.Measure)).Select(r => ($"{r.Scenario} {r.Measure.Replace(" to ceiling", "", StringComparison.Ordinal)}", r.Value));
}
