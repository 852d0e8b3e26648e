using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels;

namespace SkyLight.Api.Tests.Channels;

public sealed class InstagramApp : ChannelsApp
{
    public InstagramApp() => Settings["Channels:ResendCooldown"] = "00:00:01";
}

/// <summary>Instagram end to end: credentials, verification rounds, resend, status and refresh, secrets.</summary>
public sealed class InstagramTests(InstagramApp app) : IClassFixture<InstagramApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnAccountWithoutChallengeConnectsAtOnce()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await ConnectAsync(workspace, NewUsername(), "pw", "AE");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var channel = (await response.BodyAsync()).GetProperty("data");
        Assert.Equal(["id", "type", "username", "is_connected", "sync_status", "last_synced_at", "status_reason", "status_changed_at"], channel.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("instagram", true, "OK"), (channel.GetProperty("type").GetString(), channel.GetProperty("is_connected").GetBoolean(), channel.GetProperty("sync_status").GetString()));
    }

    [Fact]
    public async Task OneVerificationRoundWithAWrongCodeFirst()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["OTP"], code: "111111");

        var connect = await (await ConnectAsync(workspace, username, "pw")).BodyAsync();
        var accountId = connect.GetProperty("data").GetProperty("account_id").GetString()!;
        var wrong = await SolveAsync(workspace, accountId, "999999");
        var right = await (await SolveAsync(workspace, accountId, "111111")).BodyAsync();

        Assert.Equal("A verification code has been sent. Submit it to POST /channels/instagram/2fa.", connect.GetProperty("message").GetString());
        Assert.Equal((true, "OTP"), (connect.GetProperty("data").GetProperty("requires_2fa").GetBoolean(), connect.GetProperty("data").GetProperty("checkpoint_type").GetString()));
        await wrong.AssertErrorAsync(422, "Invalid verification code. Check the code and try again.");
        Assert.Equal("Instagram connected successfully. Account is syncing.", right.GetProperty("message").GetString());
        Assert.Equal((username, true), (right.GetProperty("data").GetProperty("username").GetString(), right.GetProperty("data").GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task TwoVerificationRounds()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["OTP", "2FA"]);
        var accountId = (await (await ConnectAsync(workspace, username, "pw")).BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        var second = await (await SolveAsync(workspace, accountId, "123456")).BodyAsync();
        var done = await (await SolveAsync(workspace, accountId, "123456")).BodyAsync();

        Assert.Equal("Additional verification required. Submit your code again.", second.GetProperty("message").GetString());
        Assert.Equal((true, accountId, "2FA"), (second.GetProperty("data").GetProperty("requires_2fa").GetBoolean(),
            second.GetProperty("data").GetProperty("account_id").GetString(), second.GetProperty("data").GetProperty("checkpoint_type").GetString()));
        Assert.True(done.GetProperty("data").GetProperty("is_connected").GetBoolean());
    }

    [Fact]
    public async Task ACodeForAnExpiredVerificationIs422AndTheAccountIsDeleted()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await (await ConnectAsync(workspace, await ScriptedUserAsync(["OTP"]), "pw")).BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/expire");

        var response = await SolveAsync(workspace, accountId, "123456");

        await response.AssertErrorAsync(422, "This verification has expired. Connect Instagram again to get a new code.");
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the expired attempt's account was not deleted");
        await (await SolveAsync(workspace, accountId, "123456")).AssertErrorAsync(422, "This verification has expired. Connect Instagram again to get a new code.");
    }

    [Fact]
    public async Task ResendWorksOnceThenWaitsForTheCooldown()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await (await ConnectAsync(workspace, await ScriptedUserAsync(["OTP"]), "pw")).BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        var first = await ResendAsync(workspace, accountId);
        var tooSoon = await ResendAsync(workspace, accountId);
        app.Clock.Advance(TimeSpan.FromSeconds(1.1));
        var later = await ResendAsync(workspace, accountId);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await first.BodyAsync();
        Assert.Equal(["success", "message"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Verification code resent successfully.", body.GetProperty("message").GetString());
        await tooSoon.AssertErrorAsync(429, "A code was resent moments ago. Wait 1 seconds before asking again.", "retry_after");
        Assert.Equal(1, (await tooSoon.BodyAsync()).GetProperty("retry_after").GetInt32());
        Assert.Equal(TimeSpan.FromSeconds(1), tooSoon.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task AWrongPasswordIs422AndCreatesNoChannel()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync([], password: "right");
        var before = (await app.EmulatorAccountIdsAsync()).Length;

        var response = await ConnectAsync(workspace, username, "wrong");

        await response.AssertErrorAsync(422, "The Instagram username or password is incorrect.");
        await (await workspace.Client.GetAsync("/api/v1/channels/instagram/status", Ct)).AssertErrorAsync(404, "No Instagram channel is connected.");
        Assert.Equal(before, (await app.EmulatorAccountIdsAsync()).Length);
    }

    [Theory]
    [InlineData("""{"password":"pw"}""", "username")]
    [InlineData("""{"username":"brand"}""", "password")]
    [InlineData("""{"username":"","password":""}""", "password,username")]
    [InlineData("""{"username":"brand","password":"pw","country":"ZZ"}""", "country")]
    [InlineData("""{"username":"brand","password":"pw","country":"SAU"}""", "country")]
    [InlineData("""{"username":123,"password":"pw"}""", "username")]
    public async Task EachValidationErrorIs422WithItsField(string body, string fields)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsync("/api/v1/channels/instagram/connect", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        Assert.Equal(fields.Split(','), (await response.BodyAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
    }

    [Fact]
    public async Task CodeAndResendRequestsAreValidatedToo()
    {
        var workspace = await app.NewWorkspaceAsync();

        var solve = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa", new { account_id = "x" }, Ct);
        var resend = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa/resend", new { }, Ct);

        Assert.Equal(["code"], (await solve.BodyAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(["account_id"], (await resend.BodyAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public void TheCountryListIsTheOfficialOne()
    {
        Assert.Equal(249, CountryCodeAttribute.Count);
        Assert.True(new CountryCodeAttribute().IsValid("sa"));
        Assert.False(new CountryCodeAttribute().IsValid("EU"));
    }

    [Fact]
    public async Task ConnectingAConnectedInstagramIs409()
    {
        var workspace = await app.NewWorkspaceAsync();
        await ConnectAsync(workspace, NewUsername(), "pw");

        await (await ConnectAsync(workspace, NewUsername(), "pw")).AssertErrorAsync(409, "Instagram is already connected. Disconnect it first.");
    }

    [Fact]
    public async Task ACaptchaIs422WithWhatToDoAndLeavesNothingBehind()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await ConnectAsync(workspace, await ScriptedUserAsync(["CAPTCHA"]), "pw");

        await response.AssertErrorAsync(422, "Instagram asked for a CAPTCHA, which cannot be solved through this API. Log in to this account once in the Instagram app " +
            "or at instagram.com to clear the security check, then connect again.");
        await (await workspace.Client.GetAsync("/api/v1/channels/instagram/status", Ct)).AssertErrorAsync(404, "No Instagram channel is connected.");
        await ChannelsApp.WaitUntilAsync(async () => await app.OrphanedAccountsAsync() is [], "the CAPTCHA account was left at Unipile");
    }

    [Fact]
    public async Task AnotherWorkspacesAccountIdIs404()
    {
        var alice = await app.NewWorkspaceAsync();
        var bob = await app.NewWorkspaceAsync();
        var alicesAccount = (await (await ConnectAsync(alice, await ScriptedUserAsync(["OTP"]), "pw")).BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        await (await SolveAsync(bob, alicesAccount, "123456")).AssertErrorAsync(404, "No Instagram connection attempt was found for this account_id.");
        await (await ResendAsync(bob, alicesAccount)).AssertErrorAsync(404, "No Instagram connection attempt was found for this account_id.");
        Assert.Equal(HttpStatusCode.OK, (await SolveAsync(alice, alicesAccount, "123456")).StatusCode);
    }

    [Fact]
    public async Task StatusShowsLocalRecordsUntilRefreshOrTheHealthPassReadsUnipile()
    {
        var workspace = await app.NewWorkspaceAsync();
        var channel = (await (await ConnectAsync(workspace, NewUsername(), "pw")).BodyAsync()).GetProperty("data");
        var accountId = (await app.EmulatorAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray()
            .Single(a => a.GetProperty("name").GetString() == channel.GetProperty("username").GetString()).GetProperty("id").GetString()!;
        await app.WebhooksSettledAsync(accountId, 2);   // CREATION_SUCCESS and OK from the connect

        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS", notify = false });
        var beforeRefresh = await StatusAsync(workspace);
        var refreshed = (await (await workspace.Client.PostAsync("/api/v1/channels/instagram/refresh", null, Ct)).BodyAsync()).GetProperty("data");
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "OK", notify = false });
        var beforeHealthPass = await StatusAsync(workspace);
        app.Clock.Advance(TimeSpan.FromMinutes(10.5));   // the pass re-reads only channels nobody read for an interval (the refresh did)
        await app.Services.GetRequiredService<ChannelHealthPass>().RunOnceAsync(Ct);
        var afterHealthPass = await StatusAsync(workspace);

        Assert.Equal("OK", beforeRefresh.GetProperty("sync_status").GetString());
        Assert.Equal(("CREDENTIALS", false), (refreshed.GetProperty("sync_status").GetString(), refreshed.GetProperty("is_connected").GetBoolean()));
        Assert.Equal("CREDENTIALS", beforeHealthPass.GetProperty("sync_status").GetString());
        Assert.Equal(("OK", true), (afterHealthPass.GetProperty("sync_status").GetString(), afterHealthPass.GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task ALostSessionReconnectsTheSameUserOnTheSameUnipileAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = NewUsername();
        await ConnectAsync(workspace, username, "pw");
        var accountId = (await app.EmulatorAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray()
            .Single(a => a.GetProperty("name").GetString() == username).GetProperty("id").GetString()!;
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        await ChannelsApp.WaitUntilAsync(async () => (await StatusAsync(workspace)).GetProperty("sync_status").GetString() == "CREDENTIALS", "CREDENTIALS never arrived");
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "2FA" }, code = "123456" });

        var reconnect = (await (await ConnectAsync(workspace, username, "pw")).BodyAsync()).GetProperty("data");
        var done = (await (await SolveAsync(workspace, accountId, "123456")).BodyAsync()).GetProperty("data");

        Assert.Equal((accountId, "2FA"), (reconnect.GetProperty("account_id").GetString(), reconnect.GetProperty("checkpoint_type").GetString()));
        Assert.Equal(("OK", true), (done.GetProperty("sync_status").GetString(), done.GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task DisconnectKeepsTheCampaignGuardAndDeletesTheAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var channelId = (await (await ConnectAsync(workspace, NewUsername(), "pw")).BodyAsync()).GetProperty("data").GetProperty("id").GetInt32();
        var campaign = (await (await workspace.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Launch", channel_id = channelId }, Ct)).BodyAsync()).GetProperty("data").GetProperty("id").GetInt32();
        await workspace.Client.PostAsync($"/api/v1/campaigns/{campaign}/start", null, Ct);

        await (await workspace.Client.PostAsync("/api/v1/channels/instagram/disconnect", null, Ct)).AssertErrorAsync(422, "An outreach campaign is running or paused on this channel. Cancel it first.");
        await workspace.Client.PostAsync($"/api/v1/campaigns/{campaign}/cancel", null, Ct);
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/instagram/disconnect", null, Ct)).StatusCode);
        await (await workspace.Client.GetAsync("/api/v1/channels/instagram/status", Ct)).AssertErrorAsync(404, "No Instagram channel is connected.");
    }

    [Fact]
    public async Task ThePasswordReachesUnipileAndNothingElse()
    {
        const string Password = "Zebra-Pw-7f3c91d4-Never-Stored";
        var workspace = await app.NewWorkspaceAsync();
        var scripted = await ScriptedUserAsync(["OTP"], password: Password);

        await ConnectAsync(workspace, scripted, "Zebra-Pw-7f3c91d4-Never-Stored-typo");   // wrong password: 422
        var pending = await ConnectAsync(workspace, scripted, Password);                  // a checkpoint
        await SolveAsync(workspace, (await pending.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!, "123456");
        var other = await app.NewWorkspaceAsync();
        await ConnectAsync(other, NewUsername(), Password);                               // connected at once

        Assert.DoesNotContain("Zebra-Pw-7f3c91d4", await app.Database.ReadEverythingStoredAsync(), StringComparison.Ordinal);
        Assert.NotEmpty(app.Logs.Lines);
        Assert.DoesNotContain("Zebra-Pw-7f3c91d4", app.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAccountOverviewShowsEveryChannelTypeInOneCall()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await ConnectAsync(workspace, NewUsername(), "pw");
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");   // pending, not connected: null

        var overview = (await (await workspace.Client.GetAsync("/api/v1/account/channels", Ct)).BodyAsync()).GetProperty("data");

        Assert.Equal(["whatsapp", "telegram", "instagram"], overview.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, overview.GetProperty("telegram").ValueKind);
        Assert.True(overview.GetProperty("whatsapp").GetProperty("is_connected").GetBoolean());
        Assert.Equal("instagram", overview.GetProperty("instagram").GetProperty("type").GetString());
    }

    private static string NewUsername() => $"brand_{Guid.NewGuid():N}"[..20];

    private async Task<string> ScriptedUserAsync(string[] checkpoints, string code = "123456", string password = "pw")
    {
        var username = NewUsername();
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password, checkpoints, code });
        return username;
    }

    private static Task<HttpResponseMessage> ConnectAsync(TestWorkspace workspace, string username, string password, string? country = null) =>
        workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/connect", new { username, password, country }, Ct);

    private static Task<HttpResponseMessage> SolveAsync(TestWorkspace workspace, string accountId, string code) =>
        workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa", new { account_id = accountId, code }, Ct);

    private static Task<HttpResponseMessage> ResendAsync(TestWorkspace workspace, string accountId) =>
        workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa/resend", new { account_id = accountId }, Ct);

    private static async Task<JsonElement> StatusAsync(TestWorkspace workspace) =>
        (await (await workspace.Client.GetAsync("/api/v1/channels/instagram/status", Ct)).BodyAsync()).GetProperty("data");
}
