using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Connect;

/// <summary>An Instagram link's page endpoints: credentials, code rounds, resend, the per-link budgets, and the password kept nowhere.</summary>
public sealed class ConnectInstagramTests(InstagramApp app) : IClassFixture<InstagramApp>, IAsyncLifetime
{
    private const string Password = "Kite-Pw-5b21e9-Never-Stored";

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task TwoCodeRoundsAndAResendConnectAndThePasswordIsKeptNowhere()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["OTP", "2FA"]);
        using var page = await OpenLinkAsync(workspace);
        Assert.Equal("login", (await page.StateAsync()).Screen);

        var code = await page.ActAsync("instagram/login", new { username, password = Password });
        Assert.Equal(("code", 1, 0), (code.Screen, code.Round, code.ResendInSeconds));
        var resent = await page.ActAsync("instagram/resend");
        Assert.Equal(("code", "resent"), (resent.Screen, resent.Notice));
        Assert.InRange(resent.ResendInSeconds ?? 0, 1, 1);   // the cooldown (1 s here) runs
        var wrong = await page.ActAsync("instagram/code", new { code = "000000" });
        Assert.Equal(("code", "wrong_code", 1), (wrong.Screen, wrong.Notice, wrong.Round));
        var second = await page.ActAsync("instagram/code", new { code = "123456" });
        Assert.Equal(("code", "another_round", 2), (second.Screen, second.Notice, second.Round));
        var done = await page.ActAsync("instagram/code", new { code = "123456" });

        Assert.Equal("success", done.Screen);
        Assert.NotNull(done.ChannelId);
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(Password, StringComparison.Ordinal));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var link = await db.ConnectLinks.IgnoreQueryFilters().AsNoTracking().SingleAsync(l => l.ChannelId == done.ChannelId, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(Password, System.Text.Json.JsonSerializer.Serialize(link), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPasswordIsANoticeAndTheSixthTryInTheWindowIs429()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync([], password: "right");
        using var page = await OpenLinkAsync(workspace);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var wrong = await page.ActAsync("instagram/login", new { username, password = "wrong" });
            Assert.Equal(("login", "wrong_password"), (wrong.Screen, wrong.Notice));
        }
        var refused = await page.ActAsync("instagram/login", new { username, password = "right" }, HttpStatusCode.TooManyRequests);
        Assert.Equal(("login", "too_many_tries"), (refused.Screen, refused.Notice));

        app.Clock.Advance(TimeSpan.FromMinutes(15));   // a new window
        Assert.Equal("success", (await page.ActAsync("instagram/login", new { username, password = "right" })).Screen);
    }

    [Fact]
    public async Task ACaptchaIsANoticeOnTheLoginScreen()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["CAPTCHA"]);
        using var page = await OpenLinkAsync(workspace);

        var state = await page.ActAsync("instagram/login", new { username, password = Password });

        Assert.Equal(("login", "captcha"), (state.Screen, state.Notice));
    }

    [Fact]
    public async Task AQrStepOnAnInstagramLinkIsA404AndMalformedCredentialsA422()
    {
        var workspace = await app.NewWorkspaceAsync();
        using var page = await OpenLinkAsync(workspace);

        Assert.Equal(HttpStatusCode.NotFound, (await page.PostAsync("qr")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await page.PostAsync("instagram/login", new { username = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await page.PostAsync("instagram/code", new { code = new string('1', 33) })).StatusCode);
    }

    private async Task<ConnectPageClient> OpenLinkAsync(TestWorkspace workspace)
    {
        var (link, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "instagram" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ConnectPageClient.OpenAsync(app, link.Url!);
    }

    private async Task<string> ScriptedUserAsync(string[] checkpoints, string password = Password)
    {
        var username = $"brand_{Guid.NewGuid():N}"[..20];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password, checkpoints, code = "123456" });
        return username;
    }
}
