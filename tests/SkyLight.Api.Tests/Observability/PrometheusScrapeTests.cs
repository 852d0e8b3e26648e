using System.Net;
using System.Net.Http.Json;

namespace SkyLight.Api.Tests.Observability;

/// <summary>
/// A real Prometheus server scrapes the built service, run as a process the way an operator runs it, while a WhatsApp
/// channel connects; the series a dashboard would plot are then read back through Prometheus's own query API.
/// </summary>
public sealed class PrometheusScrapeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PrometheusScrapesAConnectFlowsSeriesWithTheirValues()
    {
        var database = TestDatabase.New();
        var port = ServiceProcess.FreePort();
        var emulatorPort = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Start(database, "Development", "--urls", $"http://127.0.0.1:{port}",
            "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{emulatorPort}");
        await service.WaitReadyAsync(port);
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{port}");
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        api.DefaultRequestHeaders.Add("X-Api-Key", service.PrintedKeys[0]);
        using var emulator = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{emulatorPort}") };

        // connect, scan, completed; then a QR nobody will scan, on Telegram
        var accountId = (await (await api.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct)).BodyAsync()).GetProperty("data").GetProperty("account_id").GetString();
        (await emulator.PostAsJsonAsync($"/_emulator/accounts/{accountId}/scan", new { phone_number = "966501234567" }, Ct)).EnsureSuccessStatusCode();
        await Channels.ChannelsApp.WaitUntilAsync(async () => (await (await api.GetAsync($"/api/v1/channels/whatsapp/status?account_id={accountId}", Ct))
            .BodyAsync()).GetProperty("data").GetProperty("completed").GetBoolean(), "the login never completed");
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("/api/v1/channels/telegram/connect", null, Ct)).StatusCode);

        await prometheus.ExpectAsync("""up{job="skylight"}""", 1);
        await prometheus.ExpectAsync("""skylight_connect_attempts_total{channel_type="whatsapp",outcome="completed"}""", 1);
        await prometheus.ExpectAsync("""sum(skylight_connect_attempts_total{outcome="started"})""", 2);
        await prometheus.ExpectAsync("""skylight_channels{channel_type="whatsapp",sync_status="OK"}""", 1);
        await prometheus.ExpectAsync("""skylight_channels{channel_type="telegram",sync_status="CONNECTING"}""", 1);
        await prometheus.ExpectAsync("""sum(skylight_unipile_call_duration_seconds_count{operation="connect",outcome="success"})""", 2);
        await prometheus.ExpectAsync("""skylight_queue_pending{queue="unipile_webhooks"}""", 0);
        await prometheus.ExpectAsync("""count(http_server_request_duration_seconds_count{http_route="/api/v1/channels/whatsapp/connect"}) > 0""", 1);
        var labels = (await prometheus.QueryAsync("""{job="skylight"}""")).SelectMany(s => s.Labels.Values).ToHashSet();
        TestReport.Line($"prometheus: {(await prometheus.QueryAsync("""count({job="skylight"})""")).Single().Value} series scraped from the service");
        Assert.DoesNotContain(accountId!, labels);
        Assert.DoesNotContain(labels, l => l.StartsWith("sk_live_", StringComparison.Ordinal) || l == "Default");
        await database.DropAsync();
    }

}
