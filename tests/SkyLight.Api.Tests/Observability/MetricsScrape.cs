using System.Globalization;
using System.Text.RegularExpressions;

namespace SkyLight.Api.Tests.Observability;

/// <summary>One series of a scrape: its name, its labels, and its value.</summary>
public sealed record Series(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A GET of /metrics read as Prometheus's text exposition format, the way a Prometheus server reads it.</summary>
public sealed partial class MetricsScrape(IReadOnlyList<Series> series, string text)
{
    public IReadOnlyList<Series> Series { get; } = series;

    public string Text { get; } = text;

    public static async Task<MetricsScrape> TakeAsync(HttpClient client, string path = "/metrics")
    {
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return new MetricsScrape([.. text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(Parse)], text);
    }

    /// <summary>The sum of the series of that name whose labels include the given ones (0 when none matches).</summary>
    public double Value(string name, params (string Label, string Value)[] labels) =>
        Series.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).Sum(s => s.Value);

    private static Series Parse(string line)
    {
        var match = Line().Match(line);
        Assert.True(match.Success, $"not a Prometheus sample line: {line}");
        var labels = Label().Matches(match.Groups["labels"].Value)
            .ToDictionary(m => m.Groups["name"].Value, m => Regex.Unescape(m.Groups["value"].Value));
        var value = match.Groups["value"].Value switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var number => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Series(match.Groups["name"].Value, labels, value);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex Line();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?""")]
    private static partial Regex Label();
}
