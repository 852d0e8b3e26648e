using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;

namespace SkyLight.Api.Tests.Channels;

/// <summary>WhatsApp and Telegram end to end: the service and the emulator over real HTTP, webhooks included.</summary>
public sealed class QrChannelTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task WhatsAppConnectsByQrCodeUntilCompleted()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        var body = await response.BodyAsync();
        var accountId = body.GetProperty("data").GetProperty("account_id").GetString()!;
        var waiting = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId);
        await app.ScanAsync(accountId, new { phone_number = "966501234567" });
        var done = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", accountId, s => s.GetProperty("completed").GetBoolean());

        Assert.StartsWith("QR code generated. Scan with WhatsApp on your phone", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("2@", body.GetProperty("data").GetProperty("qr_code").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("+03:00", body.GetProperty("data").GetProperty("expires_at").GetString(), StringComparison.Ordinal);
        Assert.Equal((false, true, false), (waiting.GetProperty("completed").GetBoolean(), waiting.GetProperty("in_progress").GetBoolean(), waiting.GetProperty("is_connected").GetBoolean()));
        Assert.Equal(["id", "type", "username", "is_connected", "sync_status", "last_synced_at", "completed", "in_progress", "status_reason", "status_changed_at"], done.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("whatsapp", "+966501234567", true, "OK", false),
            (done.GetProperty("type").GetString(), done.GetProperty("username").GetString(), done.GetProperty("is_connected").GetBoolean(),
             done.GetProperty("sync_status").GetString(), done.GetProperty("in_progress").GetBoolean()));
        Assert.EndsWith("+03:00", done.GetProperty("last_synced_at").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TelegramConnectsByQrCodeUntilCompleted()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsync("/api/v1/channels/telegram/connect", null, Ct);
        var body = await response.BodyAsync();
        var accountId = body.GetProperty("data").GetProperty("account_id").GetString()!;
        await app.ScanAsync(accountId, new { username = "acme_support" });
        var done = await ChannelsApp.PollStatusAsync(workspace.Client, "telegram", accountId, s => s.GetProperty("completed").GetBoolean());

        Assert.Equal("QR code generated. Open Telegram → Settings → Devices → Link Desktop Device, then scan.", body.GetProperty("message").GetString());
        Assert.StartsWith("tg://login?token=", body.GetProperty("data").GetProperty("qr_code").GetString(), StringComparison.Ordinal);
        Assert.Equal(("acme_support", true, false), (done.GetProperty("username").GetString(), done.GetProperty("is_connected").GetBoolean(), done.GetProperty("in_progress").GetBoolean()));
    }

    [Fact]
    public async Task ConnectingAConnectedChannelIs409()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");

        var response = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);

        await response.AssertErrorAsync(409, "WhatsApp is already connected. Disconnect it first.");
    }

    [Fact]
    public async Task ASecondConnectReplacesThePendingAttemptAndDeletesItsAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        var second = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        Assert.NotEqual(first, second);
        var old = await ChannelsApp.StatusAsync(workspace.Client, "telegram", first);
        Assert.Equal((false, false), (old.GetProperty("completed").GetBoolean(), old.GetProperty("in_progress").GetBoolean()));
        Assert.True((await ChannelsApp.StatusAsync(workspace.Client, "telegram", second)).GetProperty("in_progress").GetBoolean());
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(first), "the replaced attempt's account was not deleted");
        Assert.Contains(second, await app.EmulatorAccountIdsAsync());
    }

    [Fact]
    public async Task AChannelThatLostItsSessionIsReconnectedOnTheSameUnipileAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");

        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        var lost = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", null, s => s.GetProperty("sync_status").GetString() == "CREDENTIALS");
        var reconnect = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString();
        await app.ScanAsync(accountId);
        var back = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", accountId, s => s.GetProperty("completed").GetBoolean());

        Assert.False(lost.GetProperty("is_connected").GetBoolean());
        Assert.Equal(accountId, reconnect);
        Assert.Equal("OK", back.GetProperty("sync_status").GetString());
        Assert.Contains(accountId, await app.EmulatorAccountIdsAsync());
    }

    [Fact]
    public async Task StatusConvergesWhenNoWebhookArrives()
    {
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        await app.ScanAsync(accountId, new { username = "no_webhooks" });
        var done = await ChannelsApp.PollStatusAsync(workspace.Client, "telegram", accountId, s => s.GetProperty("completed").GetBoolean());

        Assert.Equal(("no_webhooks", "OK"), (done.GetProperty("username").GetString(), done.GetProperty("sync_status").GetString()));
        Assert.DoesNotContain((await app.EmulatorAsync(HttpMethod.Get, "/_emulator/webhook-deliveries")).EnumerateArray(),
            d => d.GetProperty("account_id").GetString() == accountId);
    }

    [Fact]
    public async Task StatusAsksUnipileAtMostOnceEveryTwoSecondsHoweverManyPoll()
    {
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        var path = $"/api/v1/accounts/{accountId}";

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId)));
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId)));
        var burst = await app.UnipileCallsAsync("GET", path);
        app.Clock.Advance(TimeSpan.FromSeconds(2.1));
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId)));

        Assert.Equal(1, burst);
        Assert.Equal(2, await app.UnipileCallsAsync("GET", path));
    }

    [Fact]
    public async Task DuplicatedAndOutOfOrderWebhooksDoNoHarm()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        string Webhook(string message) => $$$"""{"AccountStatus":{"account_id":"{{{accountId}}}","account_type":"WHATSAPP","message":"{{{message}}}"}}""";

        foreach (var late in new[] { "CREATION_SUCCESS", "CONNECTING", "CREATION_SUCCESS", "OK" })
        {
            Assert.Equal(HttpStatusCode.OK, (await app.PostWebhookAsync(Webhook(late), app.WebhookSecret)).StatusCode);
        }
        await app.InboxDrainedAsync();
        var afterReplays = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");

        // Unipile now says CREDENTIALS, but the only webhook to arrive is an old OK: the truth wins
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS", notify = false });
        await app.PostWebhookAsync(Webhook("OK"), app.WebhookSecret);
        var afterStaleOk = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", null, s => s.GetProperty("sync_status").GetString() != "OK");

        // and a late copy of CREATION_SUCCESS must not revive the lost session
        await app.PostWebhookAsync(Webhook("CREATION_SUCCESS"), app.WebhookSecret);
        await app.InboxDrainedAsync();
        var afterLateCreation = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");

        Assert.Equal(("OK", true), (afterReplays.GetProperty("sync_status").GetString(), afterReplays.GetProperty("is_connected").GetBoolean()));
        Assert.Equal(("CREDENTIALS", false), (afterStaleOk.GetProperty("sync_status").GetString(), afterStaleOk.GetProperty("is_connected").GetBoolean()));
        Assert.Equal(("CREDENTIALS", false), (afterLateCreation.GetProperty("sync_status").GetString(), afterLateCreation.GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task AConnectRacingAScanThatCompletesIs409AndTheScannedAccountStays()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", delay_ms = 1000 });

        var second = workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);   // slow at Unipile
        await ChannelsApp.WaitUntilAsync(async () => await app.UnipileCallsAsync("POST", "/api/v1/accounts") >= 2, "the second connect never reached Unipile");
        await app.ScanAsync(first);
        await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", first, s => s.GetProperty("completed").GetBoolean());
        var response = await second;

        await response.AssertErrorAsync(409, "WhatsApp is already connected. Disconnect it first.");
        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", first);
        Assert.Equal((true, "OK"), (status.GetProperty("completed").GetBoolean(), status.GetProperty("sync_status").GetString()));
        await app.DeletionsDoneAsync();
        Assert.Contains(first, await app.EmulatorAccountIdsAsync());
    }

    [Fact]
    public async Task DisconnectDuringAPendingAttemptDeletesThatAttemptsAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        var pending = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, Ct)).StatusCode);

        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(pending), "the pending attempt's account was left at Unipile");
    }

    [Fact]
    public async Task TheWebhookReceiverWantsTheSecretAndAcceptsAnyContentType()
    {
        const string UnknownAccount = """{"AccountStatus":{"account_id":"nobody","account_type":"WHATSAPP","message":"OK"}}""";

        await (await app.PostWebhookAsync(UnknownAccount, "wrong")).AssertErrorAsync(401, "Missing or invalid webhook secret.");
        await (await app.PostWebhookAsync(UnknownAccount, null)).AssertErrorAsync(401, "Missing or invalid webhook secret.");
        var accepted = await app.PostWebhookAsync(UnknownAccount, app.WebhookSecret, "text/plain");
        var garbage = await app.PostWebhookAsync("not json at all", app.WebhookSecret, "application/octet-stream");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (accepted.StatusCode, garbage.StatusCode));
    }

    [Fact]
    public async Task AnotherWorkspacesAccountIdIs404()
    {
        var alice = await app.NewWorkspaceAsync();
        var bob = await app.NewWorkspaceAsync();
        var alicesAccount = (await ChannelsApp.ConnectAsync(alice.Client, "whatsapp")).GetProperty("account_id").GetString();
        await ChannelsApp.ConnectAsync(bob.Client, "whatsapp");

        var response = await bob.Client.GetAsync($"/api/v1/channels/whatsapp/status?account_id={alicesAccount}", Ct);

        await response.AssertErrorAsync(404, "No WhatsApp channel or connection attempt was found.");
        await (await bob.Client.GetAsync("/api/v1/channels/whatsapp/status?account_id=made-up", Ct)).AssertErrorAsync(404, "No WhatsApp channel or connection attempt was found.");
        await (await bob.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).AssertErrorAsync(404, "No Telegram channel or connection attempt was found.");
    }

    [Fact]
    public async Task DisconnectIsRefusedWhileACampaignRunsOrPausesAndWorksOnceItIsCancelled()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "telegram");
        var campaign = (await (await workspace.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Spring sale", channel_id = channelId }, Ct)).BodyAsync())
            .GetProperty("data").GetProperty("id").GetInt32();
        await workspace.Client.PostAsync($"/api/v1/campaigns/{campaign}/start", null, Ct);

        var whileRunning = await workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, Ct);
        await workspace.Client.PostAsync($"/api/v1/campaigns/{campaign}/pause", null, Ct);
        var whilePaused = await workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, Ct);
        await workspace.Client.PostAsync($"/api/v1/campaigns/{campaign}/cancel", null, Ct);
        var afterCancel = await workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, Ct);

        await whileRunning.AssertErrorAsync(422, "An outreach campaign is running or paused on this channel. Cancel it first.");
        await whilePaused.AssertErrorAsync(422, "An outreach campaign is running or paused on this channel. Cancel it first.");
        Assert.Equal(HttpStatusCode.NoContent, afterCancel.StatusCode);
        Assert.Empty(await afterCancel.Content.ReadAsByteArrayAsync(Ct));
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the Unipile account was not deleted");
        await (await workspace.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).AssertErrorAsync(404, "No Telegram channel or connection attempt was found.");
    }

    [Fact]
    public async Task DisconnectAnswers204WhileUnipileIsDownAndDeletesTheAccountOnceItIsBack()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "DELETE", path = $"/api/v1/accounts/{accountId}", status = 503, count = 3 });

        var response = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the deletion was not retried");
        Assert.Equal(4, await app.UnipileCallsAsync("DELETE", $"/api/v1/accounts/{accountId}"));   // three 503s, then done
    }

    [Fact]
    public async Task DisconnectingNothingIs404()
    {
        var workspace = await app.NewWorkspaceAsync();

        await (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).AssertErrorAsync(404, "No WhatsApp channel is connected.");
        await (await workspace.Client.PostAsync("/api/v1/channels/telegram/refresh", null, Ct)).AssertErrorAsync(404, "No Telegram channel is connected.");
    }

    [Fact]
    public async Task RefreshReadsTheAccountFromUnipile()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "STOPPED", notify = false });

        var body = await (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/refresh", null, Ct)).BodyAsync();

        Assert.Equal(("STOPPED", false), (body.GetProperty("data").GetProperty("sync_status").GetString(), body.GetProperty("data").GetProperty("is_connected").GetBoolean()));
        Assert.Equal(["id", "type", "username", "is_connected", "sync_status", "last_synced_at", "status_reason", "status_changed_at"], body.GetProperty("data").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task UnipileFailuresAre502AndTimeoutsAre504AndLeaveNoTrace()
    {
        var workspace = await app.NewWorkspaceAsync();

        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", status = 500 });
        var failed = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", delay_ms = 3000 });
        var slow = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);

        await failed.AssertErrorAsync(502, "The messaging provider (Unipile) returned an error. Please try again.");
        await slow.AssertErrorAsync(504, "The messaging provider (Unipile) did not respond in time. Please try again.");
        await (await workspace.Client.GetAsync("/api/v1/channels/whatsapp/status", Ct)).AssertErrorAsync(404, "No WhatsApp channel or connection attempt was found.");
    }

    [Fact]
    public async Task ABurstLargerThanOneBatchOfWebhooksIsAppliedWithoutWaitingForTicks()
    {
        await using var slowTicks = new SlowTicksApp();
        var secret = slowTicks.WebhookSecret;

        var posted = await Task.WhenAll(Enumerable.Range(0, 130).Select(i =>
            slowTicks.PostWebhookAsync($$$"""{"AccountStatus":{"account_id":"burst-{{{i}}}","account_type":"WHATSAPP","message":"OK"}}""", secret)));

        Assert.All(posted, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        await using var scope = slowTicks.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        // the job ticks every 10 minutes: only draining run after run empties a 130-item inbox (batches of 50) in time
        await ChannelsApp.WaitUntilAsync(async () => !await db.WebhookInbox.AnyAsync(Ct), "the burst waited for ticks", seconds: 10);
    }

    private sealed class SlowTicksApp : ChannelsApp
    {
        public SlowTicksApp() => Settings["Channels:JobInterval"] = "00:10:00";
    }

    [Theory]
    [InlineData("/api/v1/channels/facebook/connect")]
    [InlineData("/api/v1/channels/signal/disconnect")]
    public async Task AnyOtherChannelTypeIs404(string path)
    {
        var workspace = await app.NewWorkspaceAsync();

        await (await workspace.Client.PostAsync(path, null, Ct)).AssertErrorAsync(404, "The requested resource was not found.");
    }
}
