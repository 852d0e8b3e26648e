using System.Text.Json;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Connect;

namespace SkyLight.Api.Tests.Cli;

/// <summary><c>skylight channels link &lt;type&gt;</c>: the connect page's URL, and its QR for a phone.</summary>
public sealed class LinkCommandTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ItPrintsTheUrlAndAQrOfItThatOpensTheConnectPage()
    {
        var workspace = await app.NewWorkspaceAsync();
        var console = new CliConsole();

        Assert.Equal(0, await RunAsync(console, workspace, "channels", "link", "telegram", "--state", "crm-7", "--expires-in", "600"));

        var url = System.Text.RegularExpressions.Regex.Match(console.Output, @"http://\S+/connect/[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(url);
        Assert.Equal(url, DrawnQr.Decode(console.Output));   // the terminal QR is the URL itself
        Assert.Contains("its URL is not shown again", console.Output, StringComparison.Ordinal);
        using var page = await ConnectPageClient.OpenAsync(app, url);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.Page!.StatusCode);
    }

    [Fact]
    public async Task JsonIsTheLinkAndABadRedirectIsAnApiError()
    {
        var workspace = await app.NewWorkspaceAsync();
        var json = new CliConsole();
        var bad = new CliConsole();

        Assert.Equal(0, await RunAsync(json, workspace, "channels", "link", "instagram", "--success-url", "https://app.example/ok", "--json"));
        Assert.Equal(1, await RunAsync(bad, workspace, "channels", "link", "whatsapp", "--failure-url", "ftp://nope"));

        var link = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal(("instagram", "active", "https://app.example/ok"),
            (link.GetProperty("type").GetString(), link.GetProperty("status").GetString(), link.GetProperty("success_redirect_url").GetString()));
        Assert.Contains("/connect/", link.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Contains("Error 422:", bad.Output, StringComparison.Ordinal);
        Assert.Contains("failure_redirect_url", bad.Output, StringComparison.Ordinal);
    }

    private Task<int> RunAsync(CliConsole console, TestWorkspace workspace, params string[] args) =>
        SkyLight.Cli.Program.RunAsync([.. args, "--api-url", app.CreateClient().BaseAddress!.ToString(), "--api-key", workspace.ApiKey], console,
            pollInterval: TimeSpan.FromMilliseconds(100), cancellationToken: Ct);
}
