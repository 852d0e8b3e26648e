using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Connect;

/// <summary>Connect links through the API and their page's endpoints, without a browser (Browser/ drives the page itself).</summary>
public sealed class ConnectLinkTests(InstagramApp app) : IClassFixture<InstagramApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task ALinkIsCreatedWithItsUrlOnceAndReadBackWithoutIt()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client,
            new { type = "telegram", success_redirect_url = "https://app.example/done", state = "user-42", expires_in_seconds = 600 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/v1/channels/connect-links/{link.Id}", response.Headers.Location?.OriginalString);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/connect/[A-Za-z0-9_-]{43}$", link.Url);
        Assert.Equal(("telegram", "active", "user-42", "https://app.example/done"), (link.Type, link.Status, link.State, link.SuccessRedirectUrl));
        Assert.Equal(TimeSpan.FromMinutes(10), DateTimeOffset.Parse(link.ExpiresAt, System.Globalization.CultureInfo.InvariantCulture) -
            DateTimeOffset.Parse(link.CreatedAt, System.Globalization.CultureInfo.InvariantCulture));
        var read = await ConnectPageClient.GetLinkAsync(workspace.Client, link.Id);
        Assert.Equal(link with { Url = null }, read);

        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        Assert.Equal(HttpStatusCode.OK, page.Page!.StatusCode);
        Assert.Equal("text/html", page.Page.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheTokenIsStoredOnlyAsItsHash()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        var url = link.Url!;
        var token = url[(url.LastIndexOf('/') + 1)..];

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var row = await db.ConnectLinks.IgnoreQueryFilters().AsNoTracking().SingleAsync(l => l.Id == link.Id, Ct);
        Assert.Equal(Api.Connect.ConnectLink.HashOf(token), row.TokenHash);
        Assert.DoesNotContain(token, System.Text.Json.JsonSerializer.Serialize(row), StringComparison.Ordinal);
        if (!TestDatabase.IsPostgres)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(FULL)", Ct);
            var file = db.Database.GetDbConnection().DataSource ?? "";
            foreach (var path in new[] { file, file + "-wal" }.Where(File.Exists))
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
                Assert.DoesNotContain(token, await reader.ReadToEndAsync(Ct), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("""{"type":"sms"}""", "type")]
    [InlineData("""{}""", "type")]
    [InlineData("""{"type":"whatsapp","success_redirect_url":"ftp://files.example/x"}""", "success_redirect_url")]
    [InlineData("""{"type":"whatsapp","success_redirect_url":"/relative/path"}""", "success_redirect_url")]
    [InlineData("""{"type":"whatsapp","failure_redirect_url":"javascript:alert(1)"}""", "failure_redirect_url")]
    [InlineData("""{"type":"whatsapp","failure_redirect_url":"https://user:pw@app.example/"}""", "failure_redirect_url")]
    [InlineData("""{"type":"whatsapp","success_redirect_url":"not a url"}""", "success_redirect_url")]
    [InlineData("""{"type":"whatsapp","expires_in_seconds":59}""", "expires_in_seconds")]
    [InlineData("""{"type":"whatsapp","expires_in_seconds":604801}""", "expires_in_seconds")]
    [InlineData("""{"type":"whatsapp","expires_in_seconds":"60"}""", "expires_in_seconds")]
    [InlineData("""{"type":"whatsapp","state":"a\u0000b"}""", "state")]
    public async Task ABadFieldIsA422OnIt(string body, string field)
    {
        var workspace = await app.NewWorkspaceAsync();
        var response = await workspace.Client.SendAsync(Json.Request(HttpMethod.Post, "/api/v1/channels/connect-links", body), Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.BodyAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task AStateLongerThan500IsA422()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp", state = new string('s', 501) });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    [Fact]
    public async Task AnExpiredLinkStopsWorking()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client,
            new { type = "whatsapp", expires_in_seconds = 60, failure_redirect_url = "https://app.example/failed", state = "s1" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);

        app.Clock.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal("expired", (await ConnectPageClient.GetLinkAsync(workspace.Client, link.Id)).Status);
        var state = await page.ActAsync("qr", expected: HttpStatusCode.Gone);
        Assert.Equal(("invalid", "link_expired", "https://app.example/failed?state=s1&error=link_expired"), (state.Screen, state.Notice, state.RedirectUrl));
        await page.ReloadAsync();
        Assert.Equal(HttpStatusCode.Gone, page.Page!.StatusCode);
        Assert.Contains("data-screen=\"invalid\"", page.PageHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await workspace.Client.GetAsync("/api/v1/channels/whatsapp/status", Ct)).StatusCode);   // no login began
    }

    [Fact]
    public async Task ARevokedLinkStopsWorkingAtOnce()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "telegram" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);

        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.DeleteAsync($"/api/v1/channels/connect-links/{link.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.DeleteAsync($"/api/v1/channels/connect-links/{link.Id}", Ct)).StatusCode);

        Assert.Equal("revoked", (await ConnectPageClient.GetLinkAsync(workspace.Client, link.Id)).Status);
        Assert.Equal(("invalid", "link_revoked"), await page.ActAsync("qr", expected: HttpStatusCode.Gone) is var s ? (s.Screen, s.Notice) : default);
        Assert.Equal(HttpStatusCode.NotFound, (await workspace.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).StatusCode);   // no login began
        await page.ReloadAsync();
        Assert.Equal(HttpStatusCode.Gone, page.Page!.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workspace.Client.DeleteAsync($"/api/v1/channels/connect-links/{Guid.NewGuid()}", Ct)).StatusCode);
    }

    [Fact]
    public async Task ALinkConnectsOnceThenIsUsedAndRedirectsWithStateAndChannelId()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client,
            new { type = "whatsapp", success_redirect_url = "https://app.example/done?tab=channels", state = "user 42&x" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);

        Assert.Equal("loading", (await page.StateAsync()).Screen);
        var qr = await page.ActAsync("qr");
        Assert.Equal("qr", qr.Screen);
        Assert.StartsWith("data:image/png;base64,", qr.QrImage, StringComparison.Ordinal);
        Assert.InRange(qr.ExpiresInSeconds ?? 0, 1, 300);
        var again = await page.ActAsync("qr");   // a second call (a reload, another tab) shows the same attempt
        Assert.Equal(qr.QrImage, again.QrImage);

        await app.ScanAsync(await PendingAccountAsync(workspace, "whatsapp"));
        PageState state = qr;
        await ChannelsApp.WaitUntilAsync(async () => (state = await page.StateAsync()).Screen == "success", "the page never showed success");

        var channel = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");
        var channelId = channel.GetProperty("id").GetInt32();
        Assert.Equal(channelId, state.ChannelId);
        Assert.Equal($"https://app.example/done?tab=channels&state=user%2042%26x&channel_id={channelId}", state.RedirectUrl);
        var used = await ConnectPageClient.GetLinkAsync(workspace.Client, link.Id);
        Assert.Equal(("used", channelId), (used.Status, used.ChannelId));
        Assert.Equal("success", (await page.ActAsync("qr")).Screen);   // no second login through it
        await page.ReloadAsync();
        Assert.Equal(HttpStatusCode.Gone, page.Page!.StatusCode);
        Assert.Equal(1, (await Events.AllAsync(workspace, "whatsapp")).Count(e => e.Type == "channel.connect_started"));
    }

    [Fact]
    public async Task AnotherWorkspaceCannotSeeOrRevokeALinkAndThePageActsOnlyInItsOwn()
    {
        var mine = await app.NewWorkspaceAsync();
        var theirs = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(mine.Client, new { type = "telegram" });

        Assert.Equal(HttpStatusCode.NotFound, (await theirs.Client.GetAsync($"/api/v1/channels/connect-links/{link.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.Client.DeleteAsync($"/api/v1/channels/connect-links/{link.Id}", Ct)).StatusCode);
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        Assert.Equal("qr", (await page.ActAsync("qr")).Screen);

        Assert.Equal(HttpStatusCode.OK, (await mine.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await theirs.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).StatusCode);
        Assert.Equal("active", (await ConnectPageClient.GetLinkAsync(mine.Client, link.Id)).Status);
    }

    [Fact]
    public async Task APageActionWithoutItsAntiForgeryTokenOrCookieIs403()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);

        Assert.Equal(HttpStatusCode.Forbidden, (await page.PostAsync("qr", withToken: false)).StatusCode);
        using var cookieless = app.CreateClient();
        using var forged = new HttpRequestMessage(HttpMethod.Post, new Uri(link.Url! + "/qr").PathAndQuery) { Content = new StringContent("{}") };
        forged.Headers.Add("X-CSRF-Token", page.Csrf);
        await (await cookieless.SendAsync(forged, Ct)).AssertErrorAsync(403, "This page has expired or was not sent by this service. Reload it.");
        Assert.Equal("loading", (await page.StateAsync()).Screen);   // nothing started
    }

    [Fact]
    public async Task AnUnknownTokenIsA404PageAndA404Envelope()
    {
        using var page = await ConnectPageClient.OpenAsync(app, $"{app.CreateClient().BaseAddress}connect/{new string('x', 43)}");
        Assert.Equal(HttpStatusCode.NotFound, page.Page!.StatusCode);
        Assert.Contains("This link does not exist", page.PageHtml, StringComparison.Ordinal);
        await (await page.PostAsync("qr")).AssertErrorAsync(404, "This connect link does not exist.");
    }

    [Fact]
    public async Task ALinkForAConnectedChannelIsA409()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "telegram");
        var (_, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "telegram" });
        await response.AssertErrorAsync(409, "Telegram is already connected. Disconnect it first.");
    }

    [Fact]
    public async Task ALinkReconnectsAChannelThatLostItsSessionOnItsOwnAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", null, s => s.GetProperty("sync_status").GetString() == "CREDENTIALS");

        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        Assert.Equal("qr", (await page.ActAsync("qr")).Screen);
        Assert.Equal(accountId, await PendingAccountAsync(workspace, "whatsapp"));
        await app.ScanAsync(accountId);

        await ChannelsApp.WaitUntilAsync(async () => (await page.StateAsync()).Screen == "success", "the reconnect never showed success");
        Assert.Equal(channelId, (await ConnectPageClient.GetLinkAsync(workspace.Client, link.Id)).ChannelId);
    }

    /// <summary>The account of the last login started, from the timeline.</summary>
    internal static async Task<string> PendingAccountAsync(TestWorkspace workspace, string type) =>
        (await Events.AllAsync(workspace, type)).Last(e => e.Type == "channel.connect_started").AccountId!;
}

/// <summary>The page's own event stream: its state now, then each change, for one link only.</summary>
public sealed class ConnectPageStreamTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    [Fact]
    public async Task ThePageStreamSendsTheStateThenTheScanThatConnectedIt()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "telegram", state = "s" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        var qr = await page.ActAsync("qr");
        await using var stream = await EventStreamReader.OpenAsync(app.CreateClient(), new Uri(link.Url! + "/events").PathAndQuery);

        var first = await stream.NextMessageAsync();
        Assert.Equal("state", first.Event);
        Assert.Equal(qr with { ExpiresInSeconds = null }, first.Read<PageState>() with { ExpiresInSeconds = null });

        await app.ScanAsync(await ConnectLinkTests.PendingAccountAsync(workspace, "telegram"));
        PageState state;
        do
        {
            state = (await stream.NextMessageAsync()).Read<PageState>();
        }
        while (state.Screen != "success");
        Assert.NotNull(state.ChannelId);
    }

    [Fact]
    public async Task AnotherWorkspacesChangesAreNotSentAndALinkHoldsAtMostThreeStreams()
    {
        var workspace = await app.NewWorkspaceAsync();
        var other = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        var path = new Uri(link.Url! + "/events").PathAndQuery;
        var streams = new List<EventStreamReader>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await EventStreamReader.OpenAsync(app.CreateClient(), path));
            Assert.Equal("loading", (await streams[i].NextMessageAsync()).Read<PageState>().Screen);
        }
        await using (var fourth = await EventStreamReader.OpenAsync(app.CreateClient(), path))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, fourth.Response.StatusCode);
        }

        await ChannelsApp.ConnectAsync(other.Client, "whatsapp");   // not this link's workspace: nothing to send
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        await page.ActAsync("qr");
        Assert.Equal("qr", (await streams[0].NextMessageAsync()).Read<PageState>().Screen);
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }
}
