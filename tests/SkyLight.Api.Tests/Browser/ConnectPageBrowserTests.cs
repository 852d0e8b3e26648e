using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Connect;

namespace SkyLight.Api.Tests.Browser;

/// <summary>
/// The hosted connect page in a real headless Chromium, against the service on real Kestrel and its emulator: the QR
/// read back from the page's own image, scanned, the success screen, the redirect; a screenshot of each screen.
/// </summary>
public sealed partial class ConnectPageBrowserTests(ShortAttemptsApp app) : IClassFixture<ShortAttemptsApp>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task AWhatsAppLinkShowsItsQrThenSuccessAndLandsOnTheRedirectWithState()
    {
        var workspace = await app.NewWorkspaceAsync();
        var redirect = $"{app.CreateClient().BaseAddress}health/live?from=connect";
        var url = await LinkAsync(workspace, new { type = "whatsapp", success_redirect_url = redirect, state = "s-123" });
        using var browser = HeadlessChromium.Start();

        browser.Driver.Navigate().GoToUrl(url);
        browser.WaitForScreen("qr");
        browser.Screenshot("connect-en");
        var attempt = await PendingAttemptAsync(workspace, "whatsapp");
        Assert.Equal(attempt.QrCode, ShownQr(browser));
        Assert.False(string.IsNullOrWhiteSpace(browser.Element("qr-image").GetDomAttribute("alt")));
        Assert.Matches(Countdown(), browser.Text("countdown"));

        await app.ScanAsync(attempt.UnipileAccountId);
        browser.WaitForScreen("success");
        browser.Screenshot("connect-en-success");
        var channelId = (await ChannelsApp.StatusAsync(workspace.Client, "whatsapp")).GetProperty("id").GetInt32();
        Assert.Equal(redirect + $"&state=s-123&channel_id={channelId}", browser.Element("continue").GetDomAttribute("href"));

        HeadlessChromium.WaitUntil(() => browser.Driver.Url.StartsWith(redirect, StringComparison.Ordinal), () => $"never redirected; at {browser.Driver.Url}");
        Assert.Equal(redirect + $"&state=s-123&channel_id={channelId}", browser.Driver.Url);
    }

    [Fact]
    public async Task AnExpiredCodeOffersANewOneAndTheNewOneConnects()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = await LinkAsync(workspace, new { type = "telegram" });
        using var browser = HeadlessChromium.Start();
        browser.Driver.Navigate().GoToUrl(url);
        browser.WaitForScreen("qr");
        var first = ShownQr(browser);

        app.OutliveAttempts();   // the service's clock passes the attempt's end: its expiry job ends it, the page's stream says so
        browser.WaitForScreen("expired");
        browser.Screenshot("connect-en-expired");
        browser.Element("new-code").Click();
        browser.WaitForScreen("qr");
        var attempt = await PendingAttemptAsync(workspace, "telegram");
        HeadlessChromium.WaitUntil(() => ShownQr(browser) == attempt.QrCode, () => "the page never showed the new attempt's QR");
        Assert.NotEqual(first, attempt.QrCode);

        await app.ScanAsync(attempt.UnipileAccountId);
        browser.WaitForScreen("success");
        Assert.Equal("used", (await ConnectPageClient.GetLinkAsync(workspace.Client, await LinkIdAsync(workspace))).Status);
    }

    [Fact]
    public async Task WithoutItsStreamThePageFollowsTheLoginByPolling()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = await LinkAsync(workspace, new { type = "whatsapp" });
        // the link's three streams are taken: the page's own EventSource is refused (429) and the page polls instead
        var held = new List<EventStreamReader>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await EventStreamReader.OpenAsync(app.CreateClient(), new Uri(url + "/events").PathAndQuery));
            Assert.Equal(HttpStatusCode.OK, held[i].Response.StatusCode);
        }
        using var browser = HeadlessChromium.Start();
        browser.Driver.Navigate().GoToUrl(url);
        browser.WaitForScreen("qr");

        await app.ScanAsync((await PendingAttemptAsync(workspace, "whatsapp")).UnipileAccountId);

        browser.WaitForScreen("success");
        foreach (var stream in held)
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheArabicPageIsRightToLeftAndFullyTranslated()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = await LinkAsync(workspace, new { type = "whatsapp", failure_redirect_url = "https://app.example/back" });
        using var browser = HeadlessChromium.Start();

        browser.Driver.Navigate().GoToUrl(url + "?lang=ar");
        browser.WaitForScreen("qr");
        browser.Screenshot("connect-ar");

        AssertArabic(browser);
        Assert.Equal((await PendingAttemptAsync(workspace, "whatsapp")).QrCode, ShownQr(browser));
    }

    [Fact]
    public async Task AnArabicBrowserGetsTheArabicPageWithoutAsking()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = await LinkAsync(workspace, new { type = "instagram" });
        using var browser = HeadlessChromium.Start(language: "ar-SA");

        browser.Driver.Navigate().GoToUrl(url);
        browser.WaitForScreen("login");
        browser.Screenshot("connect-ar-instagram-login");

        AssertArabic(browser);
    }

    [Fact]
    public async Task ADeadLinkShowsWhyAndOffersTheWayBack()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = await LinkAsync(workspace, new { type = "whatsapp", failure_redirect_url = "https://app.example/back", state = "x" });
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.DeleteAsync($"/api/v1/channels/connect-links/{await LinkIdAsync(workspace)}",
            TestContext.Current.CancellationToken)).StatusCode);
        using var browser = HeadlessChromium.Start();

        browser.Driver.Navigate().GoToUrl(url);
        browser.WaitForScreen("invalid");
        browser.Screenshot("connect-en-revoked");

        Assert.Equal("This link is no longer valid", browser.Text("invalid-heading"));
        Assert.Equal("https://app.example/back?state=x&error=link_revoked", browser.Element("invalid-continue").GetDomAttribute("href"));
    }

    /// <summary>The text the page shows and the text it would show on another screen: no Latin letter, right to left.</summary>
    private static void AssertArabic(HeadlessChromium browser)
    {
        var root = browser.Driver.FindElement(By.TagName("html"));
        Assert.Equal(("ar", "rtl"), (root.GetDomAttribute("lang"), root.GetDomAttribute("dir")));
        var everything = (string)browser.Driver.ExecuteScript("""
            const main = document.querySelector('main');
            const attributes = [...main.querySelectorAll('[alt],[title],[placeholder],[aria-label]')]
              .flatMap(e => ['alt', 'title', 'placeholder', 'aria-label'].map(a => e.getAttribute(a) || ''));
            return [document.title, main.textContent, ...attributes].join(' ');
            """)!;
        Assert.DoesNotMatch(LatinLetter(), everything);
        Assert.Matches(ArabicLetter(), everything);
    }

    /// <summary>The QR code the page shows, read from its image by zbarimg.</summary>
    private static string? ShownQr(HeadlessChromium browser)
    {
        var source = browser.Element("qr-image").GetDomProperty("src") ?? "";
        const string Prefix = "data:image/png;base64,";
        return source.StartsWith(Prefix, StringComparison.Ordinal) ? Zbar.Decode(Convert.FromBase64String(source[Prefix.Length..]), "png") : null;
    }

    private async Task<(string UnipileAccountId, string QrCode)> PendingAttemptAsync(TestWorkspace workspace, string type)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var attempt = await db.ConnectAttempts.IgnoreQueryFilters().AsNoTracking()
            .SingleAsync(a => a.WorkspaceId == workspace.Id && a.ChannelType == type && a.State == AttemptStates.Pending, TestContext.Current.CancellationToken);
        return (attempt.UnipileAccountId, attempt.QrCode!);
    }

    private async Task<Guid> LinkIdAsync(TestWorkspace workspace)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ConnectLinks.IgnoreQueryFilters()
            .Where(l => l.WorkspaceId == workspace.Id).Select(l => l.Id).SingleAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<string> LinkAsync(TestWorkspace workspace, object request)
    {
        var (link, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client, request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return link.Url!;
    }

    [GeneratedRegex("[A-Za-z]")]
    private static partial Regex LatinLetter();

    [GeneratedRegex(@"\p{IsArabic}")]
    private static partial Regex ArabicLetter();

    [GeneratedRegex(@"^This code expires in \d+:\d\d\.$")]
    private static partial Regex Countdown();
}
