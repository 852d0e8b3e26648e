using System.Text.Json;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Cli;

/// <summary>The skylight CLI against the service and its emulator, with its output captured.</summary>
public sealed class CliTests(InstagramApp app) : IClassFixture<InstagramApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConnectWhatsAppDrawsAReadableQrAndEndsConnectedWhenTheScanHappens()
    {
        var workspace = await app.NewWorkspaceAsync();
        var console = new CliConsole();

        var run = RunAsync(console, workspace, "channels", "connect", "whatsapp");
        var account = await PendingAccountAsync();
        await app.ScanAsync(account.GetProperty("id").GetString()!, new { phone_number = "966512345678" });
        var exit = await run;

        Assert.Equal(0, exit);
        Assert.Contains("Scan with WhatsApp on your phone", console.Output, StringComparison.Ordinal);
        Assert.Contains("Connected whatsapp as +966512345678 (OK).", console.Output, StringComparison.Ordinal);
        Assert.SkipUnless(File.Exists("/usr/bin/zbarimg"), "the drawn QR is decoded with zbarimg: apt-get install zbar-tools (.ci/run installs it)");
        Assert.Equal(account.GetProperty("intent").GetProperty("qrcode").GetString(), DrawnQr.Decode(console.Output));
    }

    [Fact]
    public async Task AnAttemptThatFailsEndsWithExit1AndItsReasonInOneJsonDocument()
    {
        var workspace = await app.NewWorkspaceAsync();
        var console = new CliConsole();

        var run = RunAsync(console, workspace, "channels", "connect", "telegram", "--json");
        var watched = (await PendingAccountAsync("TELEGRAM")).GetProperty("id").GetString()!;
        // Unipile shows the account before the CLI's connect has recorded it; a connect racing that one would yield to it
        // and replace nothing, leaving the CLI to watch until the QR expires
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            var response = await workspace.Client.GetAsync($"/api/v1/channels/telegram/status?account_id={watched}", Ct);
            return response.IsSuccessStatusCode && (await response.BodyAsync()).GetProperty("data").GetProperty("in_progress").GetBoolean();
        }, "the CLI's login attempt was never recorded");
        var replacement = await ChannelsApp.ConnectAsync(workspace.Client, "telegram");   // replaces the attempt the CLI watches
        Assert.NotEqual(watched, replacement.GetProperty("account_id").GetString());
        var exit = await run;

        Assert.Equal(1, exit);
        var result = JsonDocument.Parse(console.Output).RootElement;   // one document: scripts can parse it
        Assert.False(result.GetProperty("connected").GetBoolean());
        Assert.Equal("the login attempt ended without connecting", result.GetProperty("reason").GetString());
        Assert.StartsWith("tg://login?token=", result.GetProperty("connection").GetProperty("qr_code").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notaurl")]
    [InlineData("localhost:5080")]
    public async Task AnApiUrlThatIsNotHttpIsAUsageError(string url)
    {
        var console = new CliConsole();

        var exit = await SkyLight.Cli.Program.RunAsync(["channels", "list", "--api-url", url, "--api-key", "sk_live_x"], console, cancellationToken: Ct);

        Assert.Equal(2, exit);
        Assert.Contains("is not an http(s) URL", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectInstagramAsksThePasswordThenEachCodeWithResend()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = $"cli_{Guid.NewGuid():N}"[..16];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "Secret-Pw-1", checkpoints = new[] { "OTP", "2FA" }, code = "777777" });
        var console = new CliConsole("Secret-Pw-1", "r", "000000", "777777", "777777");

        var exit = await RunAsync(console, workspace, "channels", "connect", "instagram", "--username", username);

        Assert.Equal(0, exit);
        Assert.DoesNotContain("Secret-Pw-1", console.Output, StringComparison.Ordinal);   // typed without echo
        Assert.Contains("Code resent.", console.Output, StringComparison.Ordinal);
        Assert.Contains("Invalid verification code", console.Output, StringComparison.Ordinal);
        Assert.Contains($"Connected instagram as {username}", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExitCodesAre0Then1ForAnApiErrorThen2ForUsage()
    {
        var workspace = await app.NewWorkspaceAsync();

        var list = new CliConsole();
        var missing = new CliConsole();
        var usage = new CliConsole();

        Assert.Equal(0, await RunAsync(list, workspace, "channels", "list", "--json"));
        Assert.Equal(1, await RunAsync(missing, workspace, "channels", "status", "instagram"));
        Assert.Equal(2, await RunAsync(usage, workspace, "channels", "status", "signal"));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(list.Output).RootElement.GetProperty("telegram").ValueKind);
        Assert.Contains("Error 404: No Instagram channel is connected.", missing.Output, StringComparison.Ordinal);
        Assert.Contains("'signal' not recognized", usage.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CampaignsAreCreatedAndMovedFromTheCommandLine()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, _) = await app.ConnectedChannelAsync(workspace.Client, "telegram");
        var created = new CliConsole();

        Assert.Equal(0, await RunAsync(created, workspace, "campaigns", "create", "--name", "CLI launch", "--channel", channelId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"));
        var id = JsonDocument.Parse(created.Output).RootElement.GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var started = new CliConsole();
        var listed = new CliConsole();
        Assert.Equal(0, await RunAsync(started, workspace, "campaigns", "start", id));
        Assert.Equal(0, await RunAsync(listed, workspace, "campaigns", "list", "--status", "running"));
        Assert.Equal(1, await RunAsync(new CliConsole(), workspace, "campaigns", "resume", id));   // running cannot resume: 422

        Assert.Contains($"campaign {id} CLI launch: running", started.Output, StringComparison.Ordinal);
        Assert.Contains("CLI launch", listed.Output, StringComparison.Ordinal);
        Assert.Contains("page 1 of 1, 1 in all", listed.Output, StringComparison.Ordinal);
    }

    private Task<int> RunAsync(CliConsole console, TestWorkspace workspace, params string[] args) =>
        SkyLight.Cli.Program.RunAsync([.. args, "--api-url", app.CreateClient().BaseAddress!.ToString(), "--api-key", workspace.ApiKey], console,
            pollInterval: TimeSpan.FromMilliseconds(100), cancellationToken: Ct);

    /// <summary>The account the CLI's connect just created at the emulator, once its QR is waiting.</summary>
    private async Task<JsonElement> PendingAccountAsync(string provider = "WHATSAPP")
    {
        JsonElement account = default;
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            var waiting = (await app.EmulatorAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray()
                .Where(a => a.GetProperty("provider").GetString() == provider && a.GetProperty("intent").ValueKind == JsonValueKind.Object &&
                    a.GetProperty("intent").GetProperty("state").GetString() == "open")
                .ToList();
            account = waiting.LastOrDefault();
            return waiting.Count > 0;
        }, $"the CLI never started a {provider} login");
        return account;
    }
}
