using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SkyLight.Api.Observability;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Connect;
using SkyLight.Api.Tests.Notifications;

namespace SkyLight.Api.Tests.Observability;

/// <summary>Regression tests from the review of issue 17 (observability): each names the promise it holds the change to.</summary>
public sealed class JsonLogFormatterReviewTests
{
    private const string Token = "JjGmS2dcgCGNWfBfY4gyrQwXE9aoLEh229KtUaIO_9w";

    /// <summary>Routing matches /connect/{token} whatever the case of "connect", so the page is served at /Connect/TOKEN too.</summary>
    [Theory]
    [InlineData("/Connect/" + Token)]
    [InlineData("/CONNECT/" + Token + "/state")]
    [InlineData("Request starting HTTP/1.1 GET http://127.0.0.1:5080/cOnNeCt/" + Token + " - - -")]
    public void ATokenIsRedactedWhateverTheCaseOfThePathThatHoldsIt(string text) =>
        Assert.DoesNotContain(Token, JsonLogFormatter.Redact(text), StringComparison.Ordinal);

    /// <summary>A template that names an argument twice ("... at {Url} ... {Url}") must not give a line with a key twice.</summary>
    [Fact]
    public void AnArgumentTheTemplateNamesTwiceIsOneKeyOfTheLine()
    {
        var line = Write(new List<KeyValuePair<string, object?>>
        {
            new("Url", "http://127.0.0.1:1"), new("Url", "http://127.0.0.1:1"), new("{OriginalFormat}", "at {Url}; curl {Url}"),
        }, "at http://127.0.0.1:1; curl http://127.0.0.1:1");

        using var json = JsonDocument.Parse(line);
        var keys = json.RootElement.GetProperty("state").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);   // Elasticsearch, for one, refuses a document with a key twice
    }

    /// <summary>A lone surrogate (a JSON "\ud800" in a webhook body, say) in a logged value must not make the log call throw.</summary>
    [Fact]
    public void ALoneSurrogateInAValueIsWrittenNotThrown()
    {
        var line = Write(new List<KeyValuePair<string, object?>> { new("Status", "\ud800x"), new("{OriginalFormat}", "status {Status}") }, "status \ud800x");

        using var json = JsonDocument.Parse(line);
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("message").ValueKind);
    }

    private static string Write(List<KeyValuePair<string, object?>> state, string message)
    {
        var formatter = new JsonLogFormatter(TimeProvider.System);
        using var writer = new StringWriter();
        var entry = new Microsoft.Extensions.Logging.Abstractions.LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Warning, "Test", new EventId(1), state, null,
            (_, _) => message);
        formatter.Write(in entry, null, writer);
        return writer.ToString().Trim();
    }
}

/// <summary>The scrape port: what a request reaches is decided by the port it came in on, never by its Host header.</summary>
public sealed class MetricsPortReviewTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheApiPortNeverServesMetricsWhateverHostTheRequestNames()
    {
        var port = ServiceProcess.FreePort();
        await using var app = new SkyLightApp { Settings = { ["Metrics:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        app.StartServer();
        var api = new Uri(Assert.Single(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses, a => new Uri(a).Port != port));
        using var client = new HttpClient { BaseAddress = api };

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Host = $"anything:{port}";
        var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Docker's -p 9200:9100, a Kubernetes Service's port, a proxy: the scraper's Host names another port than the one the service listens on.</summary>
    [Fact]
    public async Task TheMetricsPortServesAScraperThatReachedItThroughAPortMapping()
    {
        var port = ServiceProcess.FreePort();
        await using var app = new SkyLightApp { Settings = { ["Metrics:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        app.StartServer();
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Host = "skylight-metrics.internal:9200";
        var response = await scraper.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// ASPNETCORE_HTTP_PORTS (8080 in Microsoft's container images) chooses the API's port; a metrics port must not move the
    /// API to the built-in default 127.0.0.1:5080, where nothing outside the container reaches it.
    /// </summary>
    [Fact]
    public async Task AMetricsPortLeavesTheApiOnTheHttpPortsItWasGiven()
    {
        var database = TestDatabase.New();
        var (apiPort, metricsPort, emulatorPort) = (ServiceProcess.FreePort(), ServiceProcess.FreePort(), ServiceProcess.FreePort());
        await using var service = ServiceProcess.Start(database, "Development", "--http_ports", $"{apiPort}", "--Metrics:Port", $"{metricsPort}",
            "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{emulatorPort}");

        await service.WaitReadyAsync(apiPort);
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        Assert.Equal(HttpStatusCode.OK, (await scraper.GetAsync("/metrics", Ct)).StatusCode);
        await database.DropAsync();
    }

    /// <summary>Kestrel:Endpoints overrides the URLs the metrics port was added to: the scrape endpoint must not silently vanish.</summary>
    [Fact]
    public async Task AMetricsPortWorksBesideKestrelEndpoints()
    {
        var database = TestDatabase.New();
        var (apiPort, metricsPort, emulatorPort) = (ServiceProcess.FreePort(), ServiceProcess.FreePort(), ServiceProcess.FreePort());
        await using var service = ServiceProcess.Start(database, "Development", "--Kestrel:Endpoints:Api:Url", $"http://127.0.0.1:{apiPort}",
            "--Metrics:Port", $"{metricsPort}", "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{emulatorPort}");

        await service.WaitReadyAsync(apiPort);
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        HttpStatusCode? status = null;
        try
        {
            status = (await scraper.GetAsync("/metrics", Ct)).StatusCode;
        }
        catch (HttpRequestException)
        {
            // nothing listens on the metrics port
        }
        Assert.Equal(HttpStatusCode.OK, status);
        await database.DropAsync();
    }

    /// <summary>A Metrics:Path that is also a route of the service: the start refuses it, or both answer, never a 500.</summary>
    [Fact]
    public async Task AMetricsPathThatIsAlsoARouteNeverGivesA500()
    {
        await using var app = new SkyLightApp { Settings = { ["Metrics:Path"] = "/health/live" } };
        HttpClient client;
        try
        {
            client = app.CreateClient();
        }
        catch (Exception e) when (e.ToString().Contains("Metrics:Path", StringComparison.Ordinal))
        {
            return;   // refused at start, by name: fine
        }

        var response = await client.GetAsync("/health/live", Ct);

        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
    }
}

/// <summary>Traces of a connect page reached with another case of "/connect": routing serves it, and its token must stay out.</summary>
public sealed class TraceReviewTests(TracingApp app) : IClassFixture<TracingApp>
{
    [Fact]
    public async Task AConnectPageReachedAsCONNECTLeavesNoTokenInItsSpans()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        var token = new Uri(link.Url!).Segments[^1];
        using var browser = app.CreateClient();

        var response = await browser.GetAsync($"/CONNECT/{token}/state", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        List<Activity> served = [];
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult((served = [.. app.Spans.Snapshot().Where(s => s.Kind == ActivityKind.Server
            && s.DisplayName.StartsWith("GET /connect/{token}/state", StringComparison.Ordinal))]).Count >= 1), "the page's span was not exported");
        var leaks = served.SelectMany(s => s.TagObjects).Where(tag => tag.Value?.ToString()?.Contains(token, StringComparison.Ordinal) == true).ToList();
        Assert.True(leaks.Count == 0, $"span tags holding the token: {string.Join(", ", leaks.Select(t => $"{t.Key}={t.Value}"))}");
    }
}

/// <summary>Figures of the domain metrics that a review found wrong. Alone, as every test that reads a host's metrics.</summary>
[Collection(nameof(MetricsAlone))]
public sealed class DomainMetricsReviewTests(MetricsApp app) : IClassFixture<MetricsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>One GET of a status is one status read, also while a login is pending (the reader asks the model twice then).</summary>
    [Fact]
    public async Task OneStatusReadOfAPendingLoginCountsOnce()
    {
        var workspace = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");   // a QR nobody scans: the login stays pending
        await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");

        var before = await app.ScrapeAsync();
        await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");
        var after = await app.ScrapeAsync();

        Assert.Equal(1, after.Value("skylight_status_reads_total") - before.Value("skylight_status_reads_total"));
    }

    /// <summary>A webhook endpoint's host is a tenant's: no label may name it (the DNS lookup's metric, dns.question.name, does).</summary>
    [Fact]
    public async Task NoLabelNamesTheHostOfAWebhookEndpoint()
    {
        var workspace = await app.NewWorkspaceAsync();
        var route = app.Receiver.NewRoute();
        var byName = new UriBuilder(route.Url) { Host = "localhost" }.Uri;
        var endpoint = await WebhookApi.CreateAsync(workspace.Client, byName, "*");
        var before = await app.ScrapeAsync();

        await WebhookApi.TestAsync(workspace.Client, endpoint.Id);
        var after = await app.ScrapeUntilAsync(s => s.Value("skylight_queue_items_total", ("queue", "webhook_deliveries"))
            > before.Value("skylight_queue_items_total", ("queue", "webhook_deliveries")), "the delivery was never tried");

        Assert.DoesNotContain(after.Series, s => s.Labels.Values.Any(v => v.Equals("localhost", StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>A delivery redelivered today has waited seconds, not since the event it carries was first queued.</summary>
    [Fact]
    public async Task ARedeliveredDeliveryIsNotTheOldestWaitingSinceItsEventWasCreated()
    {
        var workspace = await app.NewWorkspaceAsync();
        var route = app.Receiver.NewRoute();
        var endpoint = await WebhookApi.CreateAsync(workspace.Client, route.Url, "*");
        var delivery = await WebhookApi.TestAsync(workspace.Client, endpoint.Id);
        await WebhookApi.WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.DeliveredAt is not null, "never delivered");

        app.Clock.Advance(TimeSpan.FromDays(2));
        route.Answer(new ReceiverAnswer(500), new ReceiverAnswer(500), new ReceiverAnswer(500));
        var redeliver = await workspace.Client.PostAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries/{delivery.DeliveryId}/redeliver", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        await WebhookApi.WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.LastResponseStatus == 500, "the replay was never tried");

        // the gauges reuse a reading for a second: the scrape that shows the replay pending is read after it
        var scrape = await app.ScrapeUntilAsync(s => s.Value("skylight_queue_pending", ("queue", "webhook_deliveries")) >= 1, "the replay is not pending");
        Assert.True(scrape.Value("skylight_queue_oldest_age_seconds", ("queue", "webhook_deliveries")) < 3600,
            $"oldest age {scrape.Value("skylight_queue_oldest_age_seconds", ("queue", "webhook_deliveries"))} s for a delivery queued again a moment ago");
    }
}

/// <summary>The database gauges are read during a scrape: a database that makes their reads wait (a lock) must not hold the scrape.</summary>
public sealed class SlowGaugeApp : SkyLightApp
{
    public SlowReads Slow { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Slow));
    }

    /// <summary>While on, every read waits as behind a table lock, up to 15 s (nothing but the gauges reads during the test).</summary>
    public sealed class SlowReads : DbCommandInterceptor, IDisposable
    {
        private readonly ManualResetEventSlim _released = new(true);

        public void Dispose() => _released.Dispose();

        public void Hold() => _released.Reset();

        public void Release() => _released.Set();

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            _released.Wait(TimeSpan.FromSeconds(15));
            return result;
        }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            await Task.Run(() => _released.Wait(TimeSpan.FromSeconds(15), cancellationToken), cancellationToken);
            return result;
        }
    }
}

public sealed class DatabaseGaugesReviewTests(SlowGaugeApp app) : IClassFixture<SlowGaugeApp>
{
    [Fact]
    public async Task AScrapeAnswersWithinAFewSecondsWhileTheDatabaseMakesReadsWait()
    {
        using var client = app.CreateClient();
        await MetricsScrape.TakeAsync(client);
        app.Time.Advance(TimeSpan.FromSeconds(2));   // past the reuse of the last reading: the next scrape reads again

        app.Slow.Hold();
        try
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
            var took = Stopwatch.GetElapsedTime(started);

            Assert.True(response.StatusCode == HttpStatusCode.OK && took < TimeSpan.FromSeconds(5),
                $"the scrape answered {(int)response.StatusCode} after {took.TotalSeconds:0.0} s");
        }
        finally
        {
            app.Slow.Release();
        }
    }
}
