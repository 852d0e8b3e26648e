using System.Globalization;
using System.Text;
using System.Text.Json;
using SkyLight.Bench;

// The benchmark of the Channels API against the bare framework, side by side, on this machine.
// Usage: see BenchOptions.Usage. Prints a table; writes results.json and results.md.
if (BenchOptions.Parse(args) is not { } options)
{
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var work = Directory.CreateTempSubdirectory("skylight-bench-").FullName;
var scenarios = new Scenarios(options, work);
var results = new List<ScenarioResult>();
static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
void Add(ScenarioResult result)
{
    results.Add(result);
    Console.WriteLine($"  {result.Scenario,-4} {result.Measure,-34} {F(result.Value),10} {result.Unit,-6} target {result.Target,-10} {(result.Met is null ? "" : result.Met.Value ? "met" : "MISSED")}");
}

try
{
    var s1Ratio = 1.0;
    var s1 = new LoadResult(0, 0, 1, []);
    var small = scenarios.NewDatabase("s1");
    var keys = await Seeder.SeedAsync(small, options.Workspaces, options.Workspaces);
    if (options.Runs("S1"))
    {
        Console.WriteLine($"S1: {options.Workspaces} workspaces polling status, {options.Connections} connections, {options.Duration.TotalSeconds} s (+{options.Warmup.TotalSeconds} s warm-up)");
        (var ceiling, s1, var s1Rss) = await scenarios.PollStatusAsync(small, keys);
        s1Ratio = s1.RequestsPerSecond / ceiling.RequestsPerSecond;
        Add(new("S0", "ceiling requests/s (bare framework)", ceiling.RequestsPerSecond, "req/s", "", null, $"p50 {F(ceiling.P50)} ms, p99 {F(ceiling.P99)} ms"));
        Add(new("S1", "status requests/s", s1.RequestsPerSecond, "req/s", "", null, $"errors {s1.Errors}"));
        Add(new("S1", "ratio to ceiling", s1Ratio * 100, "%", ">= 60 %", s1Ratio >= 0.60));
        Add(new("S1", "p50 latency", s1.P50, "ms", "", null));
        Add(new("S1", "p99 latency", s1.P99, "ms", "<= 10 ms", s1.P99 <= 10));
        Add(new("S1", "service peak RSS", s1Rss, "MB", "", null));
    }

    if (options.Runs("S2"))
    {
        Console.WriteLine($"S2: the same with {options.LargeChannels} channels in the database");
        var large = scenarios.NewDatabase("s2");
        var largeKeys = await Seeder.SeedAsync(large, options.Workspaces, options.LargeChannels);
        var (ceiling2, s2, s2Rss) = await scenarios.PollStatusAsync(large, largeKeys);
        var s2Ratio = s2.RequestsPerSecond / ceiling2.RequestsPerSecond;
        Add(new("S2", "ratio to ceiling", s2Ratio * 100, "%", "within 10 % of S1", s2Ratio >= s1Ratio * 0.9));
        Add(new("S2", "p99 latency", s2.P99, "ms", "within 10 % of S1", s2.P99 <= s1.P99 * 1.1, $"S1 p99 {F(s1.P99)} ms"));
        Add(new("S2", "service peak RSS", s2Rss, "MB", "<= 250 MB", s2Rss <= 250));
    }

    if (options.Runs("S3") || options.Runs("S4"))
    {
        Console.WriteLine($"S3/S4: service and emulator as separate processes; {options.Webhooks} webhooks, {options.Connects} connects");
        var live = scenarios.NewDatabase("s3");
        var webhookKeys = await Seeder.SeedAsync(live, options.Webhooks, 0, withChannels: false);
        await using (var emulator = Scenarios.StartEmulator())
        {
            await emulator.WaitReadyAsync(System.Diagnostics.Stopwatch.StartNew(), "/_emulator/accounts");
            await using var service = await Scenarios.StartServiceAsync(live, emulator);
            if (options.Runs("S3"))
            {
                var s3 = await Scenarios.WebhookToVisibleAsync(emulator, service, webhookKeys);
                Add(new("S3", "webhook to visible p50", s3[s3.Length / 2], "ms", "", null));
                Add(new("S3", "webhook to visible p99", s3[Math.Min(s3.Length - 1, (int)(s3.Length * 0.99))], "ms", "<= 50 ms", s3[Math.Min(s3.Length - 1, (int)(s3.Length * 0.99))] <= 50));
            var (refused, sample) = await Scenarios.RefusedWebhooksAsync(emulator);
            Add(new("S3", "webhook attempts not answered 200", refused, "", "0", refused == 0, sample.Length > 200 ? sample[..200] : sample));
            if (refused > 0)
            {
                Console.WriteLine(service.Output.Split('\n').FirstOrDefault(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("error", StringComparison.OrdinalIgnoreCase)));
            }
            }

            if (options.Runs("S4"))
            {
                var connectKeys = await Seeder.SeedAsync(live, options.Connects, 0, withChannels: false);
                var (wall, s4) = await scenarios.ConcurrentConnectsAsync(emulator, service, connectKeys);
                Add(new("S4", $"{options.Connects} connects, wall time", wall, "ms", "<= 1500 ms", wall <= 1500, $"Unipile latency {options.ProviderLatency.TotalMilliseconds} ms"));
                Add(new("S4", "connect p99", s4[Math.Min(s4.Length - 1, (int)(s4.Length * 0.99))], "ms", "", null));
            }
        }
    }

    if (options.Runs("S5"))
    {
        var starts = await Scenarios.ColdStartsAsync(small, options.ColdStarts);
        Add(new("S5", "cold start to ready (median)", starts[starts.Length / 2], "ms", "<= 2000 ms", starts[starts.Length / 2] <= 2000,
            $"all: {string.Join(", ", starts.Select(F))} ms"));
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

Directory.CreateDirectory(options.Output);
var machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}";
await File.WriteAllTextAsync(Path.Combine(options.Output, "results.json"), JsonSerializer.Serialize(new
{
    machine,
    load_generator = "bench/SkyLight.Bench LoadGenerator (closed loop, HttpClient), the same for ceiling and service",
    options = new { options.Workspaces, large_channels = options.LargeChannels, options.Connections, duration_s = options.Duration.TotalSeconds, options.Webhooks, options.Connects },
    results = results.Select(r => new { r.Scenario, r.Measure, r.Value, r.Unit, r.Target, r.Met, r.Notes }),
}, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
var markdown = new StringBuilder($"# Benchmark results\n\n{machine}; load generator: the bench's own closed-loop HttpClient generator " +
    $"({options.Connections} connections, {options.Duration.TotalSeconds} s) for the ceiling and the service alike.\n\n| scenario | measure | value | target | |\n|---|---|---|---|---|\n");
foreach (var r in results)
{
    markdown.Append(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Measure} | {F(r.Value)} {r.Unit} | {r.Target} | {(r.Met is null ? r.Notes : (r.Met.Value ? "met" : "missed") + (r.Notes.Length > 0 ? $"; {r.Notes}" : ""))} |\n");
}
await File.WriteAllTextAsync(Path.Combine(options.Output, "results.md"), markdown.ToString());
Console.WriteLine($"written: {Path.Combine(options.Output, "results.json")}, results.md");
return 0;
