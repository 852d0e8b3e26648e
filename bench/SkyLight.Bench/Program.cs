using System.Globalization;
using System.Text;
using System.Text.Json;
using SkyLight.Bench;

// The benchmark of the Channels API against the bare framework, side by side, on this machine. Every scenario runs
// --repeat times; each measure is the median of its runs. Usage: see BenchOptions.Usage. Prints a table; writes
// results.json, results.md and results.svg.
if (BenchOptions.Parse(args) is not { } options)
{
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var work = Directory.CreateTempSubdirectory("skylight-bench-").FullName;
var scenarios = new Scenarios(options, work);
var results = new List<ScenarioResult>();
static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
static double P99(double[] sorted) => sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))];
void Add(ScenarioResult result)
{
    results.Add(result);
    Console.WriteLine($"  {result.Scenario,-4} {result.Measure,-34} {F(result.Value),10} {result.Unit,-6} target {result.Target,-10} {(result.Met is null ? "" : result.Met.Value ? "met" : "MISSED")}");
}
// the median of a measure over the runs, with every run's value in the notes
ScenarioResult Measure(string scenario, string measure, List<double> runs, string unit, string target, Func<double, bool?> met, string notes = "")
{
    var median = Median(runs);
    var all = runs.Count > 1 ? $"runs: {string.Join(", ", runs.Select(F))}" : "";
    return new(scenario, measure, median, unit, target, met(median), string.Join("; ", new[] { notes, all }.Where(n => n.Length > 0)));
}

try
{
    var s1Ratio = 1.0;
    var s1P99 = double.MaxValue;
    var small = scenarios.NewDatabase("s1");
    var keys = await Seeder.SeedAsync(small, options.Workspaces, options.Workspaces);
    if (options.Runs("S1"))
    {
        Console.WriteLine($"S1: {options.Workspaces} workspaces polling status, {options.Connections} connections, {options.Duration.TotalSeconds} s " +
            $"(+{options.Warmup.TotalSeconds} s warm-up), {options.Repeat} runs");
        List<double> ceiling = [], ceilingP99 = [], rps = [], ratio = [], p50 = [], p99 = [], rss = [], ratioOff = [], metricsCost = [];
        for (var run = 0; run < options.Repeat; run++)
        {
            var (s0, s1, s1Off, s1Rss) = await scenarios.PollStatusBothWaysAsync(small, keys, metricsFirst: run % 2 == 0);
            ceiling.Add(s0.RequestsPerSecond); ceilingP99.Add(s0.P99); rps.Add(s1.RequestsPerSecond);
            ratio.Add(s1.RequestsPerSecond / s0.RequestsPerSecond * 100); p50.Add(s1.P50); p99.Add(s1.P99); rss.Add(s1Rss);
            ratioOff.Add(s1Off.RequestsPerSecond / s0.RequestsPerSecond * 100);
            metricsCost.Add((1 - s1.RequestsPerSecond / s1Off.RequestsPerSecond) * 100);
        }
        s1Ratio = Median(ratio) / 100;
        s1P99 = Median(p99);
        Add(Measure("S0", "ceiling requests/s (bare framework)", ceiling, "req/s", "", _ => null, $"p99 {F(Median(ceilingP99))} ms"));
        Add(Measure("S1", "status requests/s", rps, "req/s", "", _ => null));
        Add(Measure("S1", "ratio to ceiling", ratio, "%", ">= 60 %", r => r >= 60));
        Add(Measure("S1", "ratio to ceiling, metrics off", ratioOff, "%", "", _ => null));
        Add(Measure("S1", "throughput metrics cost (off→on)", metricsCost, "%", "<= 5 %", c => c <= 5));
        Add(Measure("S1", "p50 latency", p50, "ms", "", _ => null));
        Add(Measure("S1", "p99 latency", p99, "ms", "<= 10 ms", p => p <= 10));
        Add(Measure("S1", "service peak RSS", rss, "MB", "", _ => null));
    }

    if (options.Runs("S2"))
    {
        Console.WriteLine($"S2: the same with {options.LargeChannels} channels in the database");
        var large = scenarios.NewDatabase("s2");
        var largeKeys = await Seeder.SeedAsync(large, options.Workspaces, options.LargeChannels);
        List<double> ratio = [], p99 = [], rss = [];
        for (var run = 0; run < options.Repeat; run++)
        {
            var (s0, s2, s2Rss) = await scenarios.PollStatusAsync(large, largeKeys);
            ratio.Add(s2.RequestsPerSecond / s0.RequestsPerSecond * 100); p99.Add(s2.P99); rss.Add(s2Rss);
        }
        Add(Measure("S2", "ratio to ceiling", ratio, "%", "within 10 % of S1", r => r >= s1Ratio * 100 * 0.9));
        Add(Measure("S2", "p99 latency", p99, "ms", "within 10 % of S1", p => p <= s1P99 * 1.1, $"S1 p99 {F(s1P99)} ms"));
        Add(Measure("S2", "service peak RSS", rss, "MB", "<= 250 MB", m => m <= 250));
    }

    if (options.Runs("S3") || options.Runs("S4"))
    {
        Console.WriteLine($"S3/S4: service and emulator as separate processes; {options.Webhooks} webhooks, {options.Connects} connects");
        List<double> p50 = [], p99 = [], refusedRuns = [], wall = [], connectP99 = [];
        for (var run = 0; run < options.Repeat; run++)
        {
            var live = scenarios.NewDatabase($"s3-{run}");
            await using var emulator = Scenarios.StartEmulator();
            await emulator.WaitReadyAsync(System.Diagnostics.Stopwatch.StartNew(), "/_emulator/accounts");
            await using var service = await Scenarios.StartServiceAsync(live, emulator);
            if (options.Runs("S3"))
            {
                var webhookKeys = await Seeder.SeedAsync(live, options.Webhooks, 0, withChannels: false);
                var s3 = await Scenarios.WebhookToVisibleAsync(emulator, service, webhookKeys);
                p50.Add(s3[s3.Length / 2]); p99.Add(P99(s3));
                var (refused, sample) = await Scenarios.RefusedWebhooksAsync(emulator);
                refusedRuns.Add(refused);
                if (refused > 0)
                {
                    Console.WriteLine(sample.Length > 200 ? sample[..200] : sample);
                }
            }
            if (options.Runs("S4"))
            {
                var connectKeys = await Seeder.SeedAsync(live, options.Connects, 0, withChannels: false);
                var (wallMs, s4) = await scenarios.ConcurrentConnectsAsync(emulator, service, connectKeys);
                wall.Add(wallMs); connectP99.Add(P99(s4));
            }
        }
        if (options.Runs("S3"))
        {
            Add(Measure("S3", "webhook to visible p50", p50, "ms", "", _ => null));
            Add(Measure("S3", "webhook to visible p99", p99, "ms", "<= 50 ms", p => p <= 50, "waiters poll every 20 ms, 32 in flight"));
            Add(Measure("S3", "webhook attempts not answered 200", [refusedRuns.Max()], "", "0", r => r == 0, "the worst run"));
        }
        if (options.Runs("S4"))
        {
            Add(Measure("S4", $"{options.Connects} connects, wall time", wall, "ms", "<= 1500 ms", w => w <= 1500, $"Unipile latency {options.ProviderLatency.TotalMilliseconds} ms"));
            Add(Measure("S4", "connect p99", connectP99, "ms", "", _ => null));
        }
    }

    if (options.Runs("S5"))
    {
        var starts = await Scenarios.ColdStartsAsync(small, options.ColdStarts);
        Add(new("S5", "cold start to ready (median)", starts[starts.Length / 2], "ms", "<= 2000 ms", starts[starts.Length / 2] <= 2000,
            $"all: {string.Join(", ", starts.Select(F))} ms"));
    }

    if (options.Runs("S6"))
    {
        if (options.Postgres is not { Length: > 0 } server)
        {
            Console.WriteLine("S6: skipped: give --postgres with a PostgreSQL server to run two nodes on one database");
        }
        else
        {
            Console.WriteLine($"S6: S1 against two nodes on one PostgreSQL database, {options.Connections / 2} connections each");
            List<double> a = [], b = [], both = [], p99A = [], p99B = [];
            for (var run = 0; run < options.Repeat; run++)
            {
                await using var database = await PostgresDatabase.CreateAsync(server);
                var nodeKeys = await Seeder.SeedPostgresAsync(database.ConnectionString, options.Workspaces, options.Workspaces);
                var (s0, onA, onB) = await scenarios.PollTwoNodesAsync(database.ConnectionString, nodeKeys);
                a.Add(onA.RequestsPerSecond / s0.RequestsPerSecond * 100); b.Add(onB.RequestsPerSecond / s0.RequestsPerSecond * 100);
                both.Add((onA.RequestsPerSecond + onB.RequestsPerSecond) / s0.RequestsPerSecond * 100); p99A.Add(onA.P99); p99B.Add(onB.P99);
            }
            Add(Measure("S6", "node A ratio to ceiling", a, "%", "", _ => null));
            Add(Measure("S6", "node B ratio to ceiling", b, "%", "", _ => null));
            Add(Measure("S6", "both nodes' ratio to ceiling", both, "%", "(S1: >= 60 %)", _ => null, "two nodes share the same 2 cores"));
            Add(Measure("S6", "node A p99 latency", p99A, "ms", "", _ => null));
            Add(Measure("S6", "node B p99 latency", p99B, "ms", "", _ => null));
        }
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
    options = new
    {
        options.Workspaces, large_channels = options.LargeChannels, options.Connections, duration_s = options.Duration.TotalSeconds,
        warmup_s = options.Warmup.TotalSeconds, options.Repeat, options.Webhooks, options.Connects,
    },
    results = results.Select(r => new { r.Scenario, r.Measure, r.Value, r.Unit, r.Target, r.Met, r.Notes }),
}, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
var markdown = new StringBuilder($"# Benchmark results\n\n![ratio to the bare framework and p99 latency](results.svg)\n\n{machine}; load generator: the bench's own " +
    $"closed-loop HttpClient generator ({options.Connections} connections, {options.Warmup.TotalSeconds} s warm-up, {options.Duration.TotalSeconds} s measured) " +
    $"for the ceiling and the service alike; each value is the median of {options.Repeat} runs.\n\n| scenario | measure | value | target | |\n|---|---|---|---|---|\n");
foreach (var r in results)
{
    markdown.Append(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Measure} | {F(r.Value)} {r.Unit} | {r.Target} | {(r.Met is null ? r.Notes : (r.Met.Value ? "met" : "missed") + (r.Notes.Length > 0 ? $"; {r.Notes}" : ""))} |\n");
}
await File.WriteAllTextAsync(Path.Combine(options.Output, "results.md"), markdown.ToString());
await File.WriteAllTextAsync(Path.Combine(options.Output, "results.svg"), Chart.Svg(results));
Console.WriteLine($"written: {Path.Combine(options.Output, "results.json")}, results.md, results.svg");
return 0;
