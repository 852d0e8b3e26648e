using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>Unipile down for a while: status answers from local records; calls that need Unipile answer 502/503/504.</summary>
public sealed class UnipileOutageTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StatusAnswersFromLocalRecordsOr502To504WhileUnipileIsDown()
    {
        var workspace = await app.NewWorkspaceAsync();
        var pending = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;
        var other = await app.NewWorkspaceAsync();
        var (_, connected) = await app.ConnectedChannelAsync(other.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { path = "/api/v1/*", status = 503, count = 1000 });

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await workspace.Client.GetAsync($"/api/v1/channels/telegram/status?account_id={pending}", Ct));
            answers.Add(await workspace.Client.GetAsync("/api/v1/channels/telegram/status", Ct));
            answers.Add(await other.Client.GetAsync($"/api/v1/channels/whatsapp/status?account_id={connected}", Ct));
            answers.Add(await other.Client.PostAsync("/api/v1/channels/whatsapp/refresh", null, Ct));
            answers.Add(await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct));
        }

        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
            $"{a.RequestMessage!.Method} {a.RequestMessage.RequestUri!.PathAndQuery} answered {(int)a.StatusCode}"));
        Assert.All(answers.Where(a => a.RequestMessage!.Method == HttpMethod.Get), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");
    }
}
