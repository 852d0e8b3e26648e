using System.Diagnostics;
using System.Net;
using SkyLight.Api.Tests.Channels;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>The .NET SDK against the service (and its emulator) over real HTTP.</summary>
public sealed class SdkTests(InstagramApp app) : IClassFixture<InstagramApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConnectAndWatchShowsTheQrThenFollowsTheLoginToCompleted()
    {
        var client = await ClientAsync();
        var updates = new List<QrLoginUpdate>();

        await foreach (var update in client.WhatsApp.ConnectAndWatchAsync(Ct))
        {
            updates.Add(update);
            if (update.Status is null)
            {
                Assert.StartsWith("2@", update.Connection.QrCode, StringComparison.Ordinal);
                await app.ScanAsync(update.Connection.AccountId, new { phone_number = "966511112222" });   // the user scans
            }
        }

        var last = updates[^1];
        Assert.True(last.IsFinal);
        Assert.True(last.Status!.Completed);
        Assert.Equal(("+966511112222", "OK"), (last.Status.Username, last.Status.SyncStatus));
        Assert.Equal("+966511112222", (await client.Account.GetChannelsAsync(Ct)).Whatsapp?.Username);
    }

    [Fact]
    public async Task TheWatchEndsWhenTheAttemptFails()
    {
        var client = await ClientAsync();
        var updates = new List<QrLoginUpdate>();

        await foreach (var update in client.Telegram.ConnectAndWatchAsync(Ct))
        {
            updates.Add(update);
            if (update.Status is null)
            {
                // another connect replaces this attempt: the one being watched has failed
                await client.Telegram.ConnectAsync(Ct);
            }
        }

        Assert.True(updates[^1].Status!.Failed);
    }

    [Fact]
    public async Task InstagramRoundsAndTheOneExceptionType()
    {
        var client = await ClientAsync();
        var username = $"sdk_{Guid.NewGuid():N}"[..16];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "OTP" }, code = "246810" });

        var login = await client.Instagram.ConnectAsync(username, "pw", "SA", Ct);
        var wrong = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Instagram.SubmitCodeAsync(login.Verification!.AccountId, "000000", Ct));
        var done = await client.Instagram.SubmitCodeAsync(login.Verification!.AccountId, "246810", Ct);
        var again = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Instagram.ConnectAsync(username, "pw", cancellationToken: Ct));
        var invalid = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Instagram.ConnectAsync("", "", "ZZ", Ct));

        Assert.Equal("OTP", login.Verification.CheckpointType);
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "Invalid verification code. Check the code and try again."), (wrong.StatusCode, wrong.Message));
        Assert.True(done.Channel!.IsConnected);
        Assert.Equal("Instagram connected successfully. Account is syncing.", done.Message);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(["country", "password", "username"], invalid.Errors.Keys.Order());
    }

    [Fact]
    public async Task A429IsWaitedOutWithinBoundsAndThrownBeyondThem()
    {
        var client = await ClientAsync();
        var impatient = new SkyLightClient(app.CreateClient(), new SkyLightClientOptions { ApiKey = _keys[client], MaxRateLimitRetries = 0 });   // same workspace
        var username = $"sdk_{Guid.NewGuid():N}"[..16];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "OTP" }, code = "1" });
        var accountId = (await client.Instagram.ConnectAsync(username, "pw", cancellationToken: Ct)).Verification!.AccountId;

        await client.Instagram.ResendCodeAsync(accountId, Ct);
        var thrown = await Assert.ThrowsAsync<SkyLightApiException>(() => impatient.Instagram.ResendCodeAsync(accountId, Ct));
        var clock = Stopwatch.StartNew();
        await client.Instagram.ResendCodeAsync(accountId, Ct);   // waits the cooldown (1 s here), then succeeds

        Assert.Equal((HttpStatusCode.TooManyRequests, 1), (thrown.StatusCode, thrown.RetryAfter));
        Assert.True(clock.ElapsedMilliseconds >= 500, $"did not wait: {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task CampaignsGoThroughTheirLifecycleAndChannelsRefreshAndDisconnect()
    {
        var client = await ClientAsync();
        var connection = await client.Telegram.ConnectAsync(Ct);
        await app.ScanAsync(connection.AccountId, new { username = "sdk_tg" });
        var channelId = (await ChannelsApp.PollStatusAsync(HttpClientOf(client), "telegram", connection.AccountId, s => s.GetProperty("completed").GetBoolean())).GetProperty("id").GetInt32();

        var campaign = await client.Campaigns.CreateAsync("SDK launch", channelId, Ct);
        var statuses = new[]
        {
            (await client.Campaigns.StartAsync(campaign.Id, Ct)).Status,
            (await client.Campaigns.PauseAsync(campaign.Id, Ct)).Status,
            (await client.Campaigns.ResumeAsync(campaign.Id, Ct)).Status,
            (await client.Campaigns.CancelAsync(campaign.Id, Ct)).Status,
        };
        var page = await client.Campaigns.ListAsync("cancelled", cancellationToken: Ct);
        var all = new List<Campaign>();
        await foreach (var each in client.Campaigns.ListAllAsync(cancellationToken: Ct))
        {
            all.Add(each);
        }
        var refreshed = await client.Telegram.RefreshAsync(Ct);
        var image = await client.WhatsApp.GetQrImageAsync((await client.WhatsApp.ConnectAsync(Ct)).AccountId, cancellationToken: Ct);
        await client.Telegram.DisconnectAsync(Ct);

        Assert.Equal(["running", "paused", "running", "cancelled"], statuses);
        Assert.Equal([campaign.Id], page.Items.Select(c => c.Id));
        Assert.Equal([campaign.Id], all.Select(c => c.Id));
        Assert.Equal(("sdk_tg", true), (refreshed.Username, refreshed.IsConnected));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], image[..4]);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<SkyLightApiException>(() => client.Telegram.RefreshAsync(Ct))).StatusCode);
    }

    [Fact]
    public async Task AnAnswerThatIsNotTheApisIsTheOneExceptionTypeToo()
    {
        using var proxy = new HttpClient(new HtmlAnswer()) { BaseAddress = new Uri("http://proxy.test/") };
        var client = new SkyLightClient(proxy, new SkyLightClientOptions { ApiKey = "k" });

        var error = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Campaigns.ListAsync(cancellationToken: Ct));

        Assert.Contains("was not a page of campaigns", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A proxy in front of the API answering 200 with its own HTML page.</summary>
    private sealed class HtmlAnswer : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html>maintenance</html>") });
    }

    private readonly Dictionary<SkyLightClient, HttpClient> _http = [];
    private readonly Dictionary<SkyLightClient, string> _keys = [];

    private async Task<SkyLightClient> ClientAsync(SkyLightClientOptions? options = null)
    {
        var workspace = await app.NewWorkspaceAsync();
        options ??= new SkyLightClientOptions();
        options.ApiKey = workspace.ApiKey;
        options.PollInterval = TimeSpan.FromMilliseconds(100);
        var http = app.CreateClient();
        var client = new SkyLightClient(http, options);
        _http[client] = workspace.Client;
        _keys[client] = workspace.ApiKey;
        return client;
    }

    private HttpClient HttpClientOf(SkyLightClient client) => _http[client];
}
