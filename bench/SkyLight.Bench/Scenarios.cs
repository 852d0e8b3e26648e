using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace SkyLight.Bench;

internal sealed record ScenarioResult(string Scenario, string Measure, double Value, string Unit, string Target, bool? Met, string Notes = "");

/// <summary>S1–S5 of the benchmark; each starts the processes it needs and stops them.</summary>
internal sealed class Scenarios(BenchOptions options, string workFolder)
{
    private const string StatusPath = "/api/v1/channels/whatsapp/status";
    private const string WebhookSecret = "bench-webhook-secret";

    public async Task<(LoadResult Ceiling, LoadResult Service, double PeakRssMb)> PollStatusAsync(string database, List<string> keys)
    {
        var ceiling = await MeasureAsync("SkyLight.Bench.Ceiling", new Dictionary<string, string>(), null, "/health/ready");
        var (result, rss) = await PollServiceAsync(database, keys, metrics: true);
        return (ceiling.Result, result, rss);
    }

    /// <summary>
    /// S1 as above, and again with Metrics:Enabled=false, against the same ceiling: what the metrics cost. The two service
    /// runs take turns going first (<paramref name="metricsFirst"/>), so neither always meets a warmer machine.
    /// </summary>
    public async Task<(LoadResult Ceiling, LoadResult WithMetrics, LoadResult WithoutMetrics, double PeakRssMb)> PollStatusBothWaysAsync(
        string database, List<string> keys, bool metricsFirst)
    {
        var ceiling = await MeasureAsync("SkyLight.Bench.Ceiling", new Dictionary<string, string>(), null, "/health/ready");
        var first = await PollServiceAsync(database, keys, metrics: metricsFirst);
        var second = await PollServiceAsync(database, keys, metrics: !metricsFirst);
        var (on, off) = metricsFirst ? (first, second) : (second, first);
        return (ceiling.Result, on.Result, off.Result, on.PeakRssMb);
    }

    private async Task<(LoadResult Result, double PeakRssMb)> PollServiceAsync(string database, List<string> keys, bool metrics)
    {
        var settings = ServiceSettings(database, unipile: null, publicBaseUrl: null);
        settings["Metrics:Enabled"] = metrics ? "true" : "false";
        await using var service = AppProcess.Start("SkyLight.Api", settings);
        await service.WaitReadyAsync(Stopwatch.StartNew());
        var result = await LoadGenerator.RunAsync(new Uri(service.Address, StatusPath), options.Connections, options.Warmup, options.Duration, keys);
        return (result, service.PeakRssMb());
    }

    /// <summary>
    /// S6: the same polling against two service nodes on one PostgreSQL database, half the connections each, at the same
    /// time; every key is polled on both nodes. The ceiling is measured in the same run with all the connections.
    /// </summary>
    public async Task<(LoadResult Ceiling, LoadResult NodeA, LoadResult NodeB)> PollTwoNodesAsync(string postgresDatabase, List<string> keys)
    {
        var ceiling = await MeasureAsync("SkyLight.Bench.Ceiling", new Dictionary<string, string>(), null, "/health/ready");
        var settings = ServiceSettings("", unipile: null, publicBaseUrl: null);
        settings["Database:Provider"] = "Postgres";
        settings["ConnectionStrings:Default"] = postgresDatabase;
        await using var nodeA = AppProcess.Start("SkyLight.Api", settings);
        await nodeA.WaitReadyAsync(Stopwatch.StartNew());   // migrates first
        await using var nodeB = AppProcess.Start("SkyLight.Api", settings);
        await nodeB.WaitReadyAsync(Stopwatch.StartNew());
        var half = Math.Max(1, options.Connections / 2);
        var onA = LoadGenerator.RunAsync(new Uri(nodeA.Address, StatusPath), half, options.Warmup, options.Duration, keys);
        var onB = LoadGenerator.RunAsync(new Uri(nodeB.Address, StatusPath), half, options.Warmup, options.Duration, keys);
        return (ceiling.Result, await onA, await onB);
    }

    /// <summary>Webhook attempts the service did not answer with 200 (each costs a Unipile retry, seconds later).</summary>
    public static async Task<(int Failed, string Sample)> RefusedWebhooksAsync(AppProcess emulator)
    {
        using var control = new HttpClient { BaseAddress = emulator.Address };
        var refused = (await control.GetFromJsonAsync<JsonElement>("/_emulator/webhook-deliveries")).EnumerateArray()
            .Where(d => d.GetProperty("response_status").ValueKind != JsonValueKind.Number || d.GetProperty("response_status").GetInt32() != 200).ToList();
        return (refused.Count, refused.Count == 0 ? "" : refused[0].ToString());
    }

    /// <summary>S3: Unipile status changes for many accounts at once; how long until status on the service shows each.</summary>
    public static async Task<double[]> WebhookToVisibleAsync(AppProcess emulator, AppProcess service, List<string> keys)
    {
        using var http = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var control = new HttpClient { BaseAddress = emulator.Address };
        var accounts = await ConnectAllAsync(http, control, keys, "whatsapp");
        var latencies = new double[keys.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var clock = Stopwatch.StartNew();
            (await control.PostAsJsonAsync($"/_emulator/accounts/{accounts[i]}/status", new { status = "STOPPED" }, ct)).EnsureSuccessStatusCode();
            while ((await StatusAsync(http, keys[i], ct)).GetProperty("sync_status").GetString() != "STOPPED")
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"account {accounts[i]} never showed STOPPED");
                }
                await Task.Delay(20, ct);   // as the issue sets it: polling harder would measure the pollers' load, not the webhook's path
            }
            latencies[i] = clock.Elapsed.TotalMilliseconds;
        });
        return [.. latencies.Order()];
    }

    /// <summary>S4: many workspaces connect at once while Unipile takes <c>latency</c> per call.</summary>
    public async Task<(double WallMs, double[] LatenciesMs)> ConcurrentConnectsAsync(AppProcess emulator, AppProcess service, List<string> keys)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = keys.Count };
        using var http = new HttpClient(handler) { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(60) };
        using var control = new HttpClient { BaseAddress = emulator.Address };
        (await control.PostAsJsonAsync("/_emulator/faults", new { latency_ms = (int)options.ProviderLatency.TotalMilliseconds })).EnsureSuccessStatusCode();
        var latencies = new double[keys.Count];
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(keys.Select(async (key, i) =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await Send(http, key, HttpMethod.Post, "/api/v1/channels/telegram/connect", CancellationToken.None);
            response.EnsureSuccessStatusCode();
            latencies[i] = clock.Elapsed.TotalMilliseconds;
        }));
        var wallMs = wall.Elapsed.TotalMilliseconds;
        (await control.DeleteAsync("/_emulator/faults")).EnsureSuccessStatusCode();
        return (wallMs, [.. latencies.Order()]);
    }

    /// <summary>S5: process start to /health/ready answering 200, on an existing database.</summary>
    public static async Task<double[]> ColdStartsAsync(string database, int runs)
    {
        var times = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            await using var service = AppProcess.Start("SkyLight.Api", ServiceSettings(database, unipile: null, publicBaseUrl: null));
            times.Add((await service.WaitReadyAsync(clock)).TotalMilliseconds);
        }
        return [.. times.Order()];
    }

    public static AppProcess StartEmulator() => AppProcess.Start("Unipile.Emulator", new Dictionary<string, string>
    {
        ["Emulator:TelegramConfirmDelay"] = "00:00:00",
        ["Logging:LogLevel:Default"] = "Warning",
    });

    public static async Task<AppProcess> StartServiceAsync(string database, AppProcess emulator)
    {
        var port = AppProcess.FreePort();
        var service = AppProcess.Start("SkyLight.Api", ServiceSettings(database, emulator.Address, new Uri($"http://127.0.0.1:{port}")), port: port);
        await service.WaitReadyAsync(Stopwatch.StartNew());
        using var control = new HttpClient { BaseAddress = emulator.Address, DefaultRequestHeaders = { { "X-API-KEY", "emulator-key" } } };
        for (var wait = 0; wait < 200 && (await control.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("items").GetArrayLength() == 0; wait++)
        {
            await Task.Delay(50);   // the service registers its webhook just after start
        }
        return service;
    }

    public string NewDatabase(string name) => Path.Combine(workFolder, $"{name}.db");

    private async Task<(LoadResult Result, AppProcess? Process)> MeasureAsync(string project, Dictionary<string, string> settings, List<string>? keys, string readyPath)
    {
        await using var app = AppProcess.Start(project, settings);
        await app.WaitReadyAsync(Stopwatch.StartNew(), readyPath);
        return (await LoadGenerator.RunAsync(new Uri(app.Address, StatusPath), options.Connections, options.Warmup, options.Duration, keys), null);
    }

    private static Dictionary<string, string> ServiceSettings(string database, Uri? unipile, Uri? publicBaseUrl) => new()
    {
        ["ConnectionStrings:Default"] = $"Data Source={database}",
        ["RateLimiting:PermitLimit"] = "2000000000",   // the benchmark measures the service, not its limiter's refusals
        ["Unipile:BaseUrl"] = unipile?.ToString() ?? "http://127.0.0.1:9",
        ["Unipile:ApiKey"] = "emulator-key",
        ["Unipile:WebhookSecret"] = WebhookSecret,
        ["SkyLight:PublicBaseUrl"] = publicBaseUrl?.ToString() ?? "",
        ["Channels:JobInterval"] = "00:00:01",
    };

    private static async Task<string[]> ConnectAllAsync(HttpClient http, HttpClient control, List<string> keys, string type)
    {
        var accounts = new string[keys.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var connect = await Send(http, keys[i], HttpMethod.Post, $"/api/v1/channels/{type}/connect", ct);
            accounts[i] = (await connect.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("data").GetProperty("account_id").GetString()!;
            (await control.PostAsJsonAsync($"/_emulator/accounts/{accounts[i]}/scan", new { phone_number = "966500000000" }, ct)).EnsureSuccessStatusCode();
            while (!(await StatusAsync(http, keys[i], ct)).GetProperty("is_connected").GetBoolean())
            {
                await Task.Delay(10, ct);
            }
        });
        return accounts;
    }

    private static async Task<JsonElement> StatusAsync(HttpClient http, string key, CancellationToken ct)
    {
        using var response = await Send(http, key, HttpMethod.Get, StatusPath, ct);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("data");
    }

    private static async Task<HttpResponseMessage> Send(HttpClient http, string key, HttpMethod method, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Headers = { { "X-Api-Key", key } } };
        return await http.SendAsync(request, ct);
    }
}
