using System.Net;
using System.Net.Http.Json;

namespace SkyLight.Api.Tests;

/// <summary>The built service started as a process on a real port, as a newcomer starts it.</summary>
public sealed class ServiceSmokeTests
{
    [Fact]
    public async Task FirstStartPrintsAKeyAndAWhatsAppChannelConnectsThroughTheEmbeddedEmulator()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = TestDatabase.New();
        var port = ServiceProcess.FreePort();
        var emulatorPort = ServiceProcess.FreePort();
        // as `dotnet run` starts it (Development, embedded emulator), on free ports instead of 5080/5081
        await using var service = ServiceProcess.Start(database, "Development",
            "--urls", $"http://127.0.0.1:{port}", "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{emulatorPort}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        await WaitUntilReadyAsync(http, service, ct);
        var key = service.PrintedKeys is [var first, ..] ? first : null;
        Assert.True(key is not null, $"no key printed; stdout was:\n{service.Stdout}");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/account") { Headers = { { "X-Api-Key", key } } };
        var account = await http.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.OK, account.StatusCode);
        Assert.Equal("Default", (await account.BodyAsync()).GetProperty("data").GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/openapi/v1.json", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/docs/", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", ct)).StatusCode);
        // the banner shows the key twice (alone, then in a curl example); nothing else prints or logs it
        Assert.Equal([key, key], service.PrintedKeys);
        Assert.Contains("no real WhatsApp, Telegram or Instagram account is connected", service.Stdout, StringComparison.Ordinal);

        // the newcomer's first connection: QR from the service, scan through the emulator, poll to completed
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        var connect = await (await http.PostAsync("/api/v1/channels/whatsapp/connect", null, ct)).BodyAsync();
        var accountId = connect.GetProperty("data").GetProperty("account_id").GetString();
        using var emulator = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{emulatorPort}") };
        (await emulator.PostAsync($"/_emulator/accounts/{accountId}/scan", JsonContent.Create(new { phone_number = "966501234567" }), ct)).EnsureSuccessStatusCode();
        System.Text.Json.JsonElement status = default;
        for (var poll = 0; poll < 100 && !(status.ValueKind != System.Text.Json.JsonValueKind.Undefined && status.GetProperty("completed").GetBoolean()); poll++)
        {
            await Task.Delay(100, ct);
            status = (await (await http.GetAsync($"/api/v1/channels/whatsapp/status?account_id={accountId}", ct)).BodyAsync()).GetProperty("data");
        }

        Assert.True(status.GetProperty("completed").GetBoolean(), $"never completed; last status {status}");
        Assert.Equal("+966501234567", status.GetProperty("username").GetString());
        await database.DropAsync();
    }

    [Fact]
    public async Task AStopEndsOpenEventStreamsInsteadOfWaitingForThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = TestDatabase.New();
        var port = ServiceProcess.FreePort();
        await using var service = ServiceProcess.Start(database, "Development",
            "--urls", $"http://127.0.0.1:{port}", "--Unipile:EmbeddedEmulatorUrl", $"http://127.0.0.1:{ServiceProcess.FreePort()}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Timeout.InfiniteTimeSpan };
        await WaitUntilReadyAsync(http, service, ct);
        http.DefaultRequestHeaders.Add("X-Api-Key", service.PrintedKeys[0]);
        var streams = new List<Channels.EventStreamReader>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await Channels.EventStreamReader.OpenAsync(http, "/api/v1/channels/events/stream"));
            Assert.Equal(HttpStatusCode.OK, streams[i].Response.StatusCode);
        }

        var (took, exitCode) = await service.TerminateAsync(TimeSpan.FromSeconds(25));

        // the host would otherwise wait its whole shutdown timeout (30 s) for streams that never end by themselves
        TestReport.Line($"shutdown with 3 open event streams: {took.TotalSeconds:F1} s");
        Assert.Equal(0, exitCode);
        Assert.True(took < TimeSpan.FromSeconds(10), $"stopping took {took}");
        foreach (var stream in streams)
        {
            await Assert.ThrowsAsync<EndOfStreamException>(() => stream.NextMessageAsync());
            await stream.DisposeAsync();
        }
        await database.DropAsync();
    }

    private static async Task WaitUntilReadyAsync(HttpClient http, ServiceProcess service, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await http.GetAsync("/health/ready", ct)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(100, ct);
        }
        Assert.Fail($"the service did not become ready.\nstdout:\n{service.Stdout}\nstderr:\n{service.Stderr}");
    }

}
