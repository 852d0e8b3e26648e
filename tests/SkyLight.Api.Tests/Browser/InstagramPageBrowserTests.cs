using System.Net;
using OpenQA.Selenium;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Connect;

namespace SkyLight.Api.Tests.Browser;

/// <summary>An Instagram link's page in headless Chromium, used from the keyboard: password, two code rounds, a resend.</summary>
public sealed class InstagramPageBrowserTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private const string Password = "Lantern-Pw-93c1-Never-Stored";

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task TwoCodeRoundsAndAResendCompleteTheLoginWithAClearMessageForEachMistake()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = $"brand_{Guid.NewGuid():N}"[..20];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = Password, checkpoints = new[] { "OTP", "2FA" }, code = "123456" });
        var (link, response) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "instagram" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var browser = HeadlessChromium.Start();
        browser.Driver.Navigate().GoToUrl(link.Url!);
        browser.WaitForScreen("login");
        browser.Screenshot("connect-en-instagram-login");

        // the keyboard alone: type, Tab to the password, Enter submits
        browser.Element("username").SendKeys(username + Keys.Tab + "wrong-password" + Keys.Enter);
        HeadlessChromium.WaitUntil(() => browser.Text("message") == "The username or password is incorrect.", () => $"message: {browser.Text("message")}");
        Assert.Equal("", browser.Element("password").GetDomProperty("value"));   // not kept in the page after it was sent
        browser.Element("password").SendKeys(Password + Keys.Enter);
        browser.WaitForScreen("code");
        Assert.Equal("Verification step 1", browser.Text("round"));
        browser.Screenshot("connect-en-instagram-code");

        browser.Element("resend").Click();
        HeadlessChromium.WaitUntil(() => browser.Text("message") == "A new code has been sent.", () => $"message: {browser.Text("message")}");
        Assert.False(browser.Element("resend").Enabled);   // the 30 s cooldown runs on the button
        Assert.Matches(@"^Resend in \d+ s$", browser.Text("resend"));
        Assert.Equal(1, await app.UnipileCallsAsync("POST", "/api/v1/accounts/checkpoint/resend"));

        browser.Element("code").SendKeys("000000" + Keys.Enter);
        HeadlessChromium.WaitUntil(() => browser.Text("message") == "That code is not right. Check it and try again.", () => $"message: {browser.Text("message")}");
        browser.Element("code").SendKeys("123456" + Keys.Enter);
        HeadlessChromium.WaitUntil(() => browser.Text("round") == "Verification step 2", () => $"round: {browser.Text("round")}");
        browser.Element("code").SendKeys("123456" + Keys.Enter);

        browser.WaitForScreen("success");
        browser.Screenshot("connect-en-instagram-success");
        Assert.Equal("Instagram is connected", browser.Text("success-heading"));
        Assert.True((await ChannelsApp.StatusAsync(workspace.Client, "instagram")).GetProperty("is_connected").GetBoolean());
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryFieldHasALabelAndTheQrAnAlternative()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "instagram" });
        using var browser = HeadlessChromium.Start();
        browser.Driver.Navigate().GoToUrl(link.Url!);
        browser.WaitForScreen("login");

        var unlabelled = (long)browser.Driver.ExecuteScript(
            "return [...document.querySelectorAll('input')].filter(i => !document.querySelector(`label[for=\"${i.id}\"]`)).length;")!;
        Assert.Equal(0, unlabelled);
        Assert.False(string.IsNullOrWhiteSpace(browser.Element("qr-image").GetDomAttribute("alt")));
        Assert.Equal("alert", browser.Element("message").GetDomAttribute("role"));
    }
}
