using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SkyLight.Api.Tests.Connect;

namespace SkyLight.Api.Tests.Observability;

/// <summary>The built service run as a process with <c>Logging:Console:FormatterName=json</c>, its standard output read line by line.</summary>
public sealed class JsonLogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachLineIsJsonARequestsLinesCarryItsRequestIdAndTraceAndNoSecretIsWritten()
    {
        var database = TestDatabase.New();
        var port = ServiceProcess.FreePort();
        var emulatorPort = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Start(database, "Development", "--urls", $"http://127.0.0.1:{port}",
            "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{emulatorPort}", "--Logging:Console:FormatterName", "json");
        await service.WaitReadyAsync(port);
        var key = service.PrintedKeys[0];
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), DefaultRequestHeaders = { { "X-Api-Key", key } } };
        using var emulator = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{emulatorPort}") };

        // a connect page (ASP.NET Core's anti-forgery logs a warning in its request: the path holds the link's token)
        var (link, _) = await ConnectPageClient.CreateLinkAsync(api, new { type = "whatsapp" });
        var token = new Uri(link.Url!).Segments[^1];
        using (var browser = new HttpClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(link.Url, Ct)).StatusCode);
        }
        // a connect that Unipile refuses: the service logs the failure under the request's id
        (await emulator.PostAsJsonAsync("/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", status = 500 }, Ct)).EnsureSuccessStatusCode();
        var failed = await api.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        var requestId = failed.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        await Channels.ChannelsApp.WaitUntilAsync(() => Task.FromResult(service.Stdout.Contains(requestId, StringComparison.Ordinal)),
            "the failed request was not logged");

        var lines = service.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var banner = lines.TakeWhile(l => !l.StartsWith('{')).ToList();   // the first start's key, printed once for a person, not logged
        var logged = lines.Skip(banner.Count).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(logged.Count >= 5, $"too few lines: {service.Stdout}");
        Assert.All(logged, line => Assert.Equal(JsonValueKind.String, line.GetProperty("message").ValueKind));

        var ofTheFailure = logged.Where(l => Text(l, "request_id") == requestId).ToList();
        Assert.Contains(ofTheFailure, l => Text(l, "message")!.Contains("failed at Unipile", StringComparison.Ordinal));
        Assert.All(ofTheFailure, l => Assert.Matches("^[0-9a-f]{32}$", Text(l, "trace_id")));
        Assert.Single(ofTheFailure.Select(l => Text(l, "trace_id")).Distinct());
        var ofThePage = logged.Where(l => Text(l, "request_path")?.StartsWith("/connect/", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(ofThePage);
        Assert.All(ofThePage, l => Assert.Equal("/connect/{token}", Text(l, "request_path")));
        Assert.All(ofThePage, l => Assert.Matches("^[0-9a-f]{32}$", Text(l, "trace_id")));

        Assert.DoesNotContain(token, service.Stdout + service.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(logged, l => l.GetRawText().Contains(key["sk_live_".Length..], StringComparison.Ordinal));
        await database.DropAsync();
    }

    private static string? Text(JsonElement line, string property) =>
        line.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

}
