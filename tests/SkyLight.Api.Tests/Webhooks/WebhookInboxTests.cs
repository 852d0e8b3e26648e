using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Webhooks;

/// <summary>The service with few webhook attempts, so a webhook that keeps failing is set aside within a test.</summary>
public sealed class WebhookInboxApp : ChannelsApp
{
    public WebhookInboxApp() => Settings["Channels:WebhookMaxAttempts"] = "3";
}

/// <summary>
/// The webhook inbox: one bad item never stops or delays the others; an item that cannot be parsed, or keeps
/// failing, is set aside with its error; and a webhook's message never decides against Unipile's own answer.
/// </summary>
public sealed class WebhookInboxTests(WebhookInboxApp app) : IClassFixture<WebhookInboxApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task PoisonWebhooksAreSetAsideAndTheRestOfTheirBatchIsApplied()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS", notify = false });
        string[] poison =
        [
            """{"AccountStatus": {"account_id": "\ud800", "message": "OK"}}""",
            """{"AccountStatus": {"account_id": "abc", "message": "\udfff"}}""",
            """{"Account\ud800Status": {"account_id": "abc", "message": "OK"}}""",
            """{"AccountStatus": {"account_id": "a\u0000b", "message": "OK"}}""",
            "{\"AccountStatus\": {\"account_id\": \"a\0b\", \"message\": \"OK\"}}",
            """{"AccountStatus": {"account_id": 12, "message": "OK"}}""",
            """[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[""",
            "not json at all",
        ];
        // only this test's items count: another test's webhook may be set aside meanwhile (its faults ran out its attempts)
        var before = await LastInboxIdAsync();

        var answers = new List<HttpStatusCode>();
        foreach (var body in poison)
        {
            answers.Add((await app.PostWebhookAsync(body, app.WebhookSecret)).StatusCode);
        }
        answers.Add((await app.PostWebhookAsync(Webhook(accountId, "CREDENTIALS"), app.WebhookSecret)).StatusCode);

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        var applied = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", null, s => s.GetProperty("sync_status").GetString() == "CREDENTIALS");
        Assert.False(applied.GetProperty("is_connected").GetBoolean());
        await ChannelsApp.WaitUntilAsync(async () => await SetAsideCountAsync(after: before) == poison.Length, "the poison webhooks were not set aside");
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        Assert.All(await db.WebhookInbox.Where(i => i.Id > before && i.SetAsideAt != null).ToListAsync(Ct),
            item => Assert.Equal("not an account_status payload", item.LastError));
        await ChannelsApp.WaitUntilAsync(async () => !await db.WebhookInbox.AnyAsync(i => i.Id > before && i.SetAsideAt == null, Ct),
            "an item is still waiting in the inbox");
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains("WebhookInboxProcessor run failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAuthenticatedDeletedIsCheckedWithUnipileBeforeItIsBelieved()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);

        await app.PostWebhookAsync(Webhook(accountId, "DELETED"), app.WebhookSecret);
        await InboxDrainedAsync();

        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");
        Assert.Equal(("OK", true), (status.GetProperty("sync_status").GetString(), status.GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task AWebhookThatArrivesWhileUnipileCannotBeReadWaitsForUnipileInsteadOfTrustingItsMessage()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        // the phone logged out; the webhook saying so is lost, and an old OK is replayed while Unipile fails
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS", notify = false });
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "GET", path = $"/api/v1/accounts/{accountId}", status = 503, count = 4 });

        await app.PostWebhookAsync(Webhook(accountId, "OK"), app.WebhookSecret);
        await InboxDrainedAsync();

        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");
        Assert.Equal(("CREDENTIALS", false), (status.GetProperty("sync_status").GetString(), status.GetProperty("is_connected").GetBoolean()));
    }

    [Fact]
    public async Task AWebhookThatKeepsFailingIsSetAsideWithItsErrorAfterItsLastAttempt()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "telegram", new { username = "keeps_failing" });
        await app.WebhooksSettledAsync(accountId, 2);
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "GET", path = $"/api/v1/accounts/{accountId}", status = 500, count = 1000 });
        var setAsideBefore = await SetAsideCountAsync();

        await app.PostWebhookAsync(Webhook(accountId, "ERROR"), app.WebhookSecret);

        await ChannelsApp.WaitUntilAsync(async () => await SetAsideCountAsync() > setAsideBefore, "the failing webhook was never set aside", seconds: 20);
        await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");
        await using var scope = app.Services.CreateAsyncScope();
        var item = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().WebhookInbox.Where(i => i.SetAsideAt != null)
            .OrderByDescending(i => i.Id).FirstAsync(Ct);
        Assert.Equal(3, item.Attempts);
        Assert.StartsWith("Unipile: Unipile 500 failed", item.LastError, StringComparison.Ordinal);
        var status = await ChannelsApp.StatusAsync(workspace.Client, "telegram");
        Assert.Equal("OK", status.GetProperty("sync_status").GetString());   // the message alone decided nothing
    }

    private static string Webhook(string accountId, string message) =>
        $$$"""{"AccountStatus":{"account_id":"{{{accountId}}}","account_type":"WHATSAPP","message":"{{{message}}}"}}""";

    private async Task<int> SetAsideCountAsync(long after = 0)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().WebhookInbox.CountAsync(i => i.Id > after && i.SetAsideAt != null, Ct);
    }

    private async Task<long> LastInboxIdAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().WebhookInbox.MaxAsync(i => (long?)i.Id, Ct) ?? 0;
    }

    private async Task InboxDrainedAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await ChannelsApp.WaitUntilAsync(async () => !await db.WebhookInbox.AnyAsync(i => i.SetAsideAt == null, Ct), "the webhook inbox never drained", seconds: 20);
    }
}
