using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// The journal: every lifecycle action and every row of the status table writes exactly one event with its type,
/// reason, source and the status before and after; news that changes nothing writes none.
/// </summary>
public sealed class ChannelEventTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task AConnectAndItsScanWriteConnectStartedThenConnected()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");

        var events = await Events.AllAsync(workspace, "whatsapp");

        Assert.Equal(2, events.Count);
        Events.AssertIs(events[0], "channel.connect_started", "connect_requested", "user", (null, null), ("CONNECTING", false));
        Events.AssertIs(events[1], "channel.connected", "login_completed", null, ("CONNECTING", false), ("OK", true));
        Assert.Contains(events[1].Source, new[] { "webhook", "status_poll" });
        Assert.All(events, e => Assert.Equal((channelId, accountId, "whatsapp"), (e.ChannelId, e.AccountId, e.ChannelType)));
        Assert.True(events[0].Id < events[1].Id);
        var channel = await Events.Client(workspace).WhatsApp.GetStatusAsync(cancellationToken: Ct);
        Assert.Null(channel.StatusReason);
        Assert.Equal(events[1].OccurredAt, channel.StatusChangedAt);
    }

    [Theory]
    [InlineData("CREDENTIALS", "CREDENTIALS", false, "logged_out")]
    [InlineData("STOPPED", "STOPPED", false, "paused")]
    [InlineData("ERROR", "ERROR", false, "provider_error")]
    [InlineData("CONNECTING", "CONNECTING", true, "syncing")]
    public async Task EachUnipileStatusWritesOneStatusChangedEventWithItsReason(string unipileStatus, string syncStatus, bool connected, string reason)
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var before = (await Events.AllAsync(workspace, "whatsapp")).Count;

        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = unipileStatus });
        var changed = await Events.WaitForAsync(workspace, "whatsapp", before + 1);
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "OK" });
        var recovered = await Events.WaitForAsync(workspace, "whatsapp", before + 2);

        Events.AssertIs(changed[^1], "channel.status_changed", reason, "webhook", ("OK", true), (syncStatus, connected));
        Events.AssertIs(recovered[^1], "channel.status_changed", "recovered", "webhook", (syncStatus, connected), ("OK", true));
        Assert.Equal(accountId, changed[^1].AccountId);
    }

    [Fact]
    public async Task ALostSessionShowsItsReasonOnTheChannelUntilItRecovers()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var before = (await Events.AllAsync(workspace, "whatsapp")).Count;
        var sdk = Events.Client(workspace);

        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        var events = await Events.WaitForAsync(workspace, "whatsapp", before + 1);
        var lost = await sdk.WhatsApp.RefreshAsync(Ct);
        var overview = await sdk.Account.GetChannelsAsync(Ct);

        Assert.Equal(("CREDENTIALS", "logged_out", events[^1].OccurredAt), (lost.SyncStatus, lost.StatusReason, lost.StatusChangedAt));
        Assert.Null(overview.Whatsapp);   // the overview lists connected channels only
    }

    [Fact]
    public async Task DuplicatedAndReorderedWebhooksWriteNoEvent()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        var settled = await Events.WaitForAsync(workspace, "whatsapp", 3);
        await app.WebhooksSettledAsync(accountId, 3);

        // the same news again, an older OK arriving late, and a replayed login: Unipile still says CREDENTIALS
        foreach (var message in new[] { "CREDENTIALS", "CREDENTIALS", "OK", "CREATION_SUCCESS", "SYNC_SUCCESS", "CONNECTING" })
        {
            var body = System.Text.Json.JsonSerializer.Serialize(new { AccountStatus = new { account_id = accountId, account_type = "WHATSAPP", message } });
            Assert.Equal(HttpStatusCode.OK, (await app.PostWebhookAsync(body, app.WebhookSecret)).StatusCode);
        }
        await app.InboxDrainedAsync();

        var events = await Events.AllAsync(workspace, "whatsapp");
        Assert.Equal(settled.Select(e => e.Id), events.Select(e => e.Id));
        Assert.Equal("CREDENTIALS", (await Events.Client(workspace).WhatsApp.GetStatusAsync(cancellationToken: Ct)).SyncStatus);
    }

    [Fact]
    public async Task AnAccountGoneFromUnipileIsAnErrorWithItsReason()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });
        (await app.Emulator.DeleteAsync($"/api/v1/accounts/{accountId}", Ct)).EnsureSuccessStatusCode();

        var channel = await Events.Client(workspace).WhatsApp.RefreshAsync(Ct);
        var events = await Events.AllAsync(workspace, "whatsapp");

        Events.AssertIs(events[^1], "channel.status_changed", "deleted_at_provider", "refresh", ("OK", true), ("ERROR", false));
        Assert.Equal(("ERROR", "deleted_at_provider"), (channel.SyncStatus, channel.StatusReason));
        await app.ResetEmulatorAsync();
        (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task ASecondConnectEndsTheFirstAttemptAsReplacedAndStartsAnother()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;
        var second = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        var events = await Events.AllAsync(workspace, "telegram");

        Assert.Equal(3, events.Count);
        Events.AssertIs(events[0], "channel.connect_started", "connect_requested", "user", (null, null), ("CONNECTING", false));
        Events.AssertIs(events[1], "channel.connect_failed", "replaced_by_new_attempt", "user", ("CONNECTING", false), ("CONNECTING", false));
        Events.AssertIs(events[2], "channel.connect_started", "connect_requested", "user", ("CONNECTING", false), ("CONNECTING", false));
        Assert.Equal((first, first, second), (events[0].AccountId, events[1].AccountId, events[2].AccountId));
    }

    [Fact]
    public async Task ADisconnectWritesDisconnectedByUser()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");

        await Events.Client(workspace).WhatsApp.DisconnectAsync(Ct);
        var events = await Events.AllAsync(workspace, "whatsapp");

        Events.AssertIs(events[^1], "channel.disconnected", "disconnected_by_user", "user", ("OK", true), (null, false));
        Assert.Equal((channelId, accountId), (events[^1].ChannelId, events[^1].AccountId));
    }

    [Fact]
    public async Task AReconnectAfterALogoutKeepsTheLostStatusUntilTheScanThenConnectsAsReconnected()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        await Events.WaitForAsync(workspace, "whatsapp", 3);
        await app.WebhooksSettledAsync(accountId, 3);

        var again = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString();
        await app.ScanAsync(accountId);
        var events = await Events.WaitForAsync(workspace, "whatsapp", 5);

        Assert.Equal(accountId, again);
        Events.AssertIs(events[3], "channel.connect_started", "reconnect_requested", "user", ("CREDENTIALS", false), ("CREDENTIALS", false));
        Events.AssertIs(events[4], "channel.connected", "reconnected", null, ("CREDENTIALS", false), ("OK", true));
    }

    [Fact]
    public async Task TheHealthPassFindsALostSessionAndItsRecoveryWithoutAnyWebhook()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "STOPPED", notify = false });

        await RunHealthPassAsync();
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "OK", notify = false });
        await RunHealthPassAsync();
        var events = await Events.AllAsync(workspace, "whatsapp");

        Events.AssertIs(events[^2], "channel.status_changed", "paused", "health_pass", ("OK", true), ("STOPPED", false));
        Events.AssertIs(events[^1], "channel.status_changed", "health_check", "health_pass", ("STOPPED", false), ("OK", true));
    }

    [Fact]
    public async Task AnotherWorkspacesEventsAreNeverVisible()
    {
        var mine = await app.NewWorkspaceAsync();
        var theirs = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(theirs.Client, "telegram");

        var page = await Events.Client(mine).Channels.GetEventsAsync(cancellationToken: Ct);

        Assert.Empty(page.Items);
        Assert.Equal(0, page.Total);
    }

    [Fact]
    public async Task TheHealthPassLeavesAChannelReadWithinTheIntervalAloneAndReadsItOnceTheIntervalPassed()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "telegram");
        await app.WebhooksSettledAsync(accountId, 2);
        var path = $"/api/v1/accounts/{accountId}";
        var before = await app.UnipileCallsAsync("GET", path);

        await RunHealthPassAsync(advance: false);   // the webhooks just read it
        var whileFresh = await app.UnipileCallsAsync("GET", path) - before;
        await RunHealthPassAsync();
        var afterTheInterval = await app.UnipileCallsAsync("GET", path) - before;

        Assert.Equal((0, 1), (whileFresh, afterTheInterval));
    }

    private async Task RunHealthPassAsync(bool advance = true)
    {
        if (advance)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(10.5));   // the pass re-reads only channels nobody read for an interval
        }
        await using (var scope = app.Services.CreateAsyncScope())
        {
            // the pass runs once per interval on one node: free its lease as the next interval would
            await scope.ServiceProvider.GetRequiredService<SkyLightDb>().JobLeases.Where(l => l.Name == nameof(ChannelHealthPass))
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.LeasedUntil, DateTimeOffset.UnixEpoch), Ct);
        }
        await app.Services.GetRequiredService<ChannelHealthPass>().RunOnceAsync(Ct);
    }
}

/// <summary>Reading the journal through the SDK, as integrators do.</summary>
internal static class Events
{
    public static SkyLightClient Client(TestWorkspace workspace) => new(workspace.Client);

    /// <summary>Every event of the channel type, oldest first.</summary>
    public static async Task<List<ChannelEvent>> AllAsync(TestWorkspace workspace, string type)
    {
        var events = new List<ChannelEvent>();
        for (long after = 0; ;)
        {
            var page = await Client(workspace).Channels.GetEventsAsync(new ChannelEventQuery { Type = type, After = after, PerPage = 100 },
                TestContext.Current.CancellationToken);
            events.AddRange(page.Items);
            if (page.Items.Count < 100)
            {
                return events;
            }
            after = page.Items[^1].Id;
        }
    }

    /// <summary>Waits until the channel type has at least <paramref name="count"/> events.</summary>
    public static async Task<List<ChannelEvent>> WaitForAsync(TestWorkspace workspace, string type, int count)
    {
        List<ChannelEvent> events = [];
        await ChannelsApp.WaitUntilAsync(async () => (events = await AllAsync(workspace, type)).Count >= count,
            $"fewer than {count} {type} events were written");
        return events;
    }

    /// <summary>Asserts an event's type, reason, source (unless null) and the status before and after it.</summary>
    public static void AssertIs(ChannelEvent actual, string type, string? reason, string? source, (string?, bool?) before, (string?, bool) after)
    {
        Assert.Equal((type, reason), (actual.Type, actual.Reason));
        if (source is not null)
        {
            Assert.Equal(source, actual.Source);
        }
        Assert.Equal(before, (actual.PreviousSyncStatus, actual.PreviousIsConnected));
        Assert.Equal(after, (actual.SyncStatus, actual.IsConnected));
    }
}
