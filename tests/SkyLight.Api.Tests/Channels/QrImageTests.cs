using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>The QR endpoint's image, read back by a standard decoder (zbarimg, Debian's zbar-tools), is the qr_code string.</summary>
public sealed class QrImageTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("whatsapp")]
    [InlineData("telegram")]
    public async Task ThePngDecodesToExactlyTheQrCodeString(string type)
    {
        Assert.SkipUnless(File.Exists("/usr/bin/zbarimg"), "needs zbarimg: apt-get install zbar-tools (.ci/run installs it)");
        var workspace = await app.NewWorkspaceAsync();
        var connect = await ChannelsApp.ConnectAsync(workspace.Client, type);
        var accountId = connect.GetProperty("account_id").GetString();

        var response = await workspace.Client.GetAsync($"/api/v1/channels/{type}/qr?account_id={accountId}", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(connect.GetProperty("qr_code").GetString(), Zbar.Decode(await response.Content.ReadAsByteArrayAsync(Ct), "png"));
    }

    [Fact]
    public async Task SvgIsOfferedTooAndAnUnknownFormatIs422()
    {
        var workspace = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");

        var svg = await workspace.Client.GetAsync("/api/v1/channels/whatsapp/qr?format=svg", Ct);
        var gif = await workspace.Client.GetAsync("/api/v1/channels/whatsapp/qr?format=gif", Ct);

        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", await svg.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await gif.AssertErrorAsync(422, "The given data was invalid.", "errors");
    }

    [Fact]
    public async Task AnotherWorkspacesQrIs404AndNoQrIsCached()
    {
        var alice = await app.NewWorkspaceAsync();
        var bob = await app.NewWorkspaceAsync();
        var alicesAccount = (await ChannelsApp.ConnectAsync(alice.Client, "whatsapp")).GetProperty("account_id").GetString();

        var own = await alice.Client.GetAsync($"/api/v1/channels/whatsapp/qr?account_id={alicesAccount}", Ct);
        var foreign = await bob.Client.GetAsync($"/api/v1/channels/whatsapp/qr?account_id={alicesAccount}", Ct);

        Assert.True(own.Headers.CacheControl?.NoStore);
        await foreign.AssertErrorAsync(404, "No WhatsApp QR code is waiting to be scanned.");
    }

    [Fact]
    public async Task WithoutAPendingQrItIs404()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "telegram");

        await (await workspace.Client.GetAsync($"/api/v1/channels/telegram/qr?account_id={accountId}", Ct))
            .AssertErrorAsync(404, "No Telegram QR code is waiting to be scanned.");
        await (await workspace.Client.GetAsync("/api/v1/channels/whatsapp/qr", Ct)).AssertErrorAsync(404, "No WhatsApp QR code is waiting to be scanned.");
    }
}
