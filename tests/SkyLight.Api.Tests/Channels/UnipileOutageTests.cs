using System.Diagnostics;
using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// Unipile down in every way it can be: status answers from local records, promptly; calls that need Unipile
/// answer 502/503/504; nothing answers 500.
/// </summary>
public sealed class UnipileOutageTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every route of Unipile's API fails the same way while the outage lasts.</summary>
    public static readonly object[] Outages =
    [
        new { path = "/api/v1/*", status = 503, count = 100_000 },
        new { path = "/api/v1/*", status = 500, count = 100_000 },
        new { path = "/api/v1/*", status = 429, count = 100_000 },
        new { path = "/api/v1/*", status = 502, body = "<html><body>502 Bad Gateway</body></html>", count = 100_000 },
        new { path = "/api/v1/*", delay_ms = 2500, count = 100_000 },   // past the client's 2 s timeout
    ];

    [Fact]
    public async Task StatusAnswersFromLocalRecordsAndOtherCallsAre502To504WhileUnipileIsDown()
    {
        var workspace = await app.NewWorkspaceAsync();
        var pending = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;
        var other = await app.NewWorkspaceAsync();
        var (_, connected) = await app.ConnectedChannelAsync(other.Client, "whatsapp");

        foreach (var outage in Outages)
        {
            await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", outage);
            var statuses = new List<(HttpResponseMessage Answer, TimeSpan Took)>();
            var others = new List<HttpResponseMessage>();
            for (var i = 0; i < 2; i++)
            {
                statuses.Add(await TimedAsync(() => workspace.Client.GetAsync($"/api/v1/channels/telegram/status?account_id={pending}", Ct)));
                statuses.Add(await TimedAsync(() => workspace.Client.GetAsync("/api/v1/channels/telegram/status", Ct)));
                statuses.Add(await TimedAsync(() => other.Client.GetAsync($"/api/v1/channels/whatsapp/status?account_id={connected}", Ct)));
                others.Add(await other.Client.PostAsync("/api/v1/channels/whatsapp/refresh", null, Ct));
                others.Add(await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct));
            }
            await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");

            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s.Answer.StatusCode));
            Assert.All(statuses, s => Assert.True(s.Took < TimeSpan.FromSeconds(1.8), $"status took {s.Took} during {outage}"));
            Assert.All(others, a => Assert.True(a.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
                $"{a.RequestMessage!.RequestUri!.PathAndQuery} answered {(int)a.StatusCode} during {outage}"));
        }
        // afterwards the pending login still works
        await ChannelsApp.WaitUntilAsync(async () => (await other.Client.PostAsync("/api/v1/channels/whatsapp/refresh", null, Ct)).IsSuccessStatusCode,
            "Unipile never came back", seconds: 30);
        await app.ScanAsync(pending, new { username = "after_the_outage" });
        await ChannelsApp.PollStatusAsync(workspace.Client, "telegram", pending, s => s.GetProperty("completed").GetBoolean());
    }

    private static async Task<(HttpResponseMessage, TimeSpan)> TimedAsync(Func<Task<HttpResponseMessage>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var answer = await call();
        return (answer, Stopwatch.GetElapsedTime(started));
    }
}
