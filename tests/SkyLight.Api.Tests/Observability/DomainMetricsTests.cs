using System.Net;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Notifications;

namespace SkyLight.Api.Tests.Observability;

/// <summary>
/// Tests that read a host's metrics run alone: every host in this process publishes the same meter names, and a
/// collector listens by name, so another test's host running meanwhile would count into these figures.
/// </summary>
[CollectionDefinition(nameof(MetricsAlone), DisableParallelization = true)]
public sealed class MetricsAlone;

/// <summary>The service on the real clock with short logins, at most two streams per key, and a webhook receiver.</summary>
public sealed class MetricsApp : ChannelWebhooksApp
{
    public MetricsApp()
    {
        Settings["Channels:AttemptLifetime"] = Lifetime.ToString();
        Settings["Streams:MaxConnectionsPerKey"] = "2";
        Settings["Webhooks:RetryJitter"] = "0";
    }

    public static TimeSpan Lifetime => TimeSpan.FromMinutes(1);

    public Task<MetricsScrape> ScrapeAsync() => MetricsScrape.TakeAsync(CreateClient());

    /// <summary>Scrapes until the condition holds; fails with the last scrape's figure otherwise.</summary>
    public async Task<MetricsScrape> ScrapeUntilAsync(Func<MetricsScrape, bool> condition, string because)
    {
        MetricsScrape scrape = null!;
        try
        {
            await WaitUntilAsync(async () => condition(scrape = await ScrapeAsync()), because);
        }
        catch (Xunit.Sdk.FailException)
        {
            Assert.Fail($"{because}; the last scrape's skylight series:\n{string.Join('\n', scrape.Text.Split('\n').Where(l => l.StartsWith("skylight_", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal)))}");
        }
        return scrape;
    }
}

/// <summary>
/// Each domain metric after a scripted flow, read from /metrics in Prometheus's format, as differences between a scrape
/// before the flow and one after it (the host is shared by the tests of this class).
/// </summary>
[Collection(nameof(MetricsAlone))]
public sealed class DomainMetricsTests(MetricsApp app) : IClassFixture<MetricsApp>, IAsyncLifetime
{
    private const string AttemptsTotal = "skylight_connect_attempts_total";
    private const string ChannelsGauge = "skylight_channels";
    private const string EventsTotal = "skylight_channel_events_total";
    private const string UnipileCalls = "skylight_unipile_call_duration_seconds_count";
    private const string QueueItems = "skylight_queue_items_total";
    private const string Pending = "skylight_queue_pending";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task ConnectScanLogoutRefreshAndDisconnectAreCountedAsTheJournalRecordsThem()
    {
        var before = await app.ScrapeAsync();
        var workspace = await app.NewWorkspaceAsync();

        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        var connected = await app.ScrapeUntilAsync(s => Delta(s, before, ChannelsGauge, ("channel_type", "whatsapp"), ("sync_status", "OK")) == 1,
            "the connected channel is not in the channels gauge");
        Assert.Equal(1, Delta(connected, before, AttemptsTotal, ("channel_type", "whatsapp"), ("outcome", "started"), ("reason", "connect_requested")));
        Assert.Equal(1, Delta(connected, before, AttemptsTotal, ("channel_type", "whatsapp"), ("outcome", "completed")));
        Assert.Equal(0, Delta(connected, before, AttemptsTotal, ("outcome", "failed")) + Delta(connected, before, AttemptsTotal, ("outcome", "expired")));
        Assert.True(Delta(connected, before, UnipileCalls, ("operation", "connect"), ("outcome", "success")) == 1);

        // the user logs out on the phone: Unipile says CREDENTIALS by webhook
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", null, s => s.GetProperty("sync_status").GetString() == "CREDENTIALS");
        await app.InboxDrainedAsync();
        var loggedOut = await app.ScrapeUntilAsync(s => Delta(s, before, ChannelsGauge, ("channel_type", "whatsapp"), ("sync_status", "CREDENTIALS")) == 1
            && Delta(s, before, ChannelsGauge, ("channel_type", "whatsapp"), ("sync_status", "OK")) == 0
            && s.Value(Pending, ("queue", "unipile_webhooks")) == 0, "the logged-out channel is not in the gauge, or webhooks still wait");
        Assert.True(Delta(loggedOut, connected, "skylight_unipile_webhooks_received_total") >= 1);
        Assert.True(Delta(loggedOut, connected, QueueItems, ("queue", "unipile_webhooks"), ("outcome", "done")) >= 1);

        // refresh reads the account at Unipile
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/refresh", null, Ct)).StatusCode);
        await app.ScrapeUntilAsync(s => Delta(s, loggedOut, UnipileCalls, ("operation", "get_account"), ("outcome", "success")) >= 1,
            "the refresh's read of the account was not counted");

        // disconnect: the channel goes, its account is deleted at Unipile through the deletions queue
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).StatusCode);
        // (a gauge may show a reading up to a second old: each is asserted in the condition a scrape is waited for)
        var gone = await app.ScrapeUntilAsync(s => Delta(s, before, QueueItems, ("queue", "remote_deletions"), ("outcome", "done")) == 1
            && s.Value(Pending, ("queue", "remote_deletions")) == 0 && Delta(s, before, ChannelsGauge, ("channel_type", "whatsapp")) == 0,
            "the disconnected channel is still counted, or its account was not deleted");
        Assert.True(Delta(gone, before, UnipileCalls, ("operation", "delete_account"), ("outcome", "success")) >= 1);

        // every event the journal holds was counted once, by type
        var journal = await Api.Tests.Channels.Events.AllAsync(workspace, "whatsapp");
        foreach (var type in journal.Select(e => e.Type).Distinct())
        {
            Assert.Equal(journal.Count(e => e.Type == type), Delta(gone, before, EventsTotal, ("channel_type", "whatsapp"), ("event", type)));
        }
        Assert.Contains(journal, e => e.Type == "channel.disconnected");
    }

    [Fact]
    public async Task AnExpiredLoginAFailingUnipileCallAndAPoisonWebhookAreCounted()
    {
        var before = await app.ScrapeAsync();
        var workspace = await app.NewWorkspaceAsync();

        // a QR nobody scans
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;
        app.Clock.Advance(MetricsApp.Lifetime + TimeSpan.FromSeconds(1));
        await ChannelsApp.PollStatusAsync(workspace.Client, "telegram", accountId, s => s.GetProperty("sync_status").GetString() == "CREATION_FAIL");
        var expired = (await Api.Tests.Channels.Events.AllAsync(workspace, "telegram")).Single(e => e.Type == "channel.connect_expired");

        // Unipile answers a connect with 500
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", status = 500 });
        var refused = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        Assert.True((int)refused.StatusCode >= 500 && refused.StatusCode != HttpStatusCode.InternalServerError, $"answered {refused.StatusCode}");

        // then it answers again, and a second QR replaces the first: that attempt failed, for that reason
        await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");
        var replaced = (await Api.Tests.Channels.Events.AllAsync(workspace, "whatsapp")).Single(e => e.Type == "channel.connect_failed");

        // a webhook that is not one
        Assert.Equal(HttpStatusCode.OK, (await app.PostWebhookAsync("not json at all", app.WebhookSecret)).StatusCode);

        var after = await app.ScrapeUntilAsync(s => Delta(s, before, "skylight_queue_set_aside", ("queue", "unipile_webhooks")) == 1,
            "the poison webhook was not set aside");
        Assert.Equal(1, Delta(after, before, AttemptsTotal, ("channel_type", "telegram"), ("outcome", "expired"), ("reason", expired.Reason!)));
        Assert.Equal(1, Delta(after, before, AttemptsTotal, ("channel_type", "telegram"), ("outcome", "started")));
        // the connect Unipile refused began no attempt: two started, one of them replaced
        Assert.Equal(2, Delta(after, before, AttemptsTotal, ("channel_type", "whatsapp"), ("outcome", "started")));
        Assert.Equal(1, Delta(after, before, AttemptsTotal, ("channel_type", "whatsapp"), ("outcome", "failed"), ("reason", replaced.Reason!)));
        Assert.Equal(3, Delta(after, before, AttemptsTotal, ("channel_type", "whatsapp")));
        Assert.Equal(1, Delta(after, before, UnipileCalls, ("operation", "connect"), ("outcome", "server_error")));
        Assert.Equal(3, Delta(after, before, UnipileCalls, ("operation", "connect"), ("outcome", "success")));   // and the Telegram one
        Assert.Equal(1, Delta(after, before, QueueItems, ("queue", "unipile_webhooks"), ("outcome", "set_aside")));
        Assert.True(Delta(after, before, "skylight_unipile_webhooks_received_total") >= 1);
        Assert.Equal(1, Delta(after, before, ChannelsGauge, ("channel_type", "telegram"), ("sync_status", "CREATION_FAIL")));
    }

    [Fact]
    public async Task ADeletionUnipileKeepsRefusingShowsAsPendingWithItsAge()
    {
        var workspace = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "DELETE", path = "/api/v1/accounts/*", status = 503, count = 1000 });
        var before = await app.ScrapeAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).StatusCode);
        await app.ScrapeUntilAsync(s => s.Value(Pending, ("queue", "remote_deletions")) == 1
            && Delta(s, before, QueueItems, ("queue", "remote_deletions"), ("outcome", "retry")) >= 1, "the refused deletion is not pending");
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        var waiting = await app.ScrapeUntilAsync(s => s.Value("skylight_queue_oldest_age_seconds", ("queue", "remote_deletions")) >= 600,
            "the pending deletion's age did not grow with the clock");
        Assert.True(Delta(waiting, before, UnipileCalls, ("operation", "delete_account"), ("outcome", "server_error")) >= 1);

        await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");
        app.Clock.Advance(TimeSpan.FromHours(1));   // past its back-off
        await app.ScrapeUntilAsync(s => s.Value(Pending, ("queue", "remote_deletions")) == 0
            && s.Value("skylight_queue_oldest_age_seconds", ("queue", "remote_deletions")) == 0, "the deletion never went through");
    }

    [Fact]
    public async Task RefusedStreamsStatusReadsAndWebhookDeliveriesAreCounted()
    {
        var before = await app.ScrapeAsync();
        var workspace = await app.NewWorkspaceAsync();
        var route = app.Receiver.NewRoute();
        route.Answer(new ReceiverAnswer(500));
        await WebhookApi.CreateAsync(workspace.Client, route.Url, "*");

        await app.ConnectedChannelAsync(workspace.Client, "telegram");
        await ChannelsApp.StatusAsync(workspace.Client, "telegram");
        await ChannelsApp.StatusAsync(workspace.Client, "telegram");
        var streams = new List<HttpResponseMessage>();
        var stranger = await app.NewWorkspaceAsync();   // a key whose stream slots nothing else holds
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await stranger.Client.GetAsync("/api/v1/channels/events/stream", HttpCompletionOption.ResponseHeadersRead, Ct));
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], streams.Select(r => r.StatusCode));
        streams.ForEach(r => r.Dispose());

        // the delivery the receiver answered 500 waits out its back-off; the clock moves past it
        await app.ScrapeUntilAsync(s => Delta(s, before, QueueItems, ("queue", "webhook_deliveries"), ("outcome", "retry")) == 1, "the 500 was not counted");
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        // every event of the journal delivered once (events may still come: the channel goes on from CONNECTING to OK)
        MetricsScrape after = null!;
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            var journal = await Api.Tests.Channels.Events.AllAsync(workspace, "telegram");
            after = await app.ScrapeAsync();
            return after.Value(Pending, ("queue", "webhook_deliveries")) == 0 && route.Log.Count(l => l.Answer.Status == 200) == journal.Count
                && Delta(after, before, QueueItems, ("queue", "webhook_deliveries"), ("outcome", "done")) == journal.Count;
        }, "the deliveries done are not the journal's events");
        Assert.Equal(1, Delta(after, before, QueueItems, ("queue", "webhook_deliveries"), ("outcome", "retry")));   // the one 500
        Assert.Equal(1, Delta(after, before, "skylight_rate_limit_refusals_total", ("limit", "streams_per_key")));
        Assert.True(Delta(after, before, "skylight_status_reads_total", ("source", "memory")) >= 1);
        Assert.True(Delta(after, before, "skylight_status_reads_total", ("source", "database")) >= 1);
    }

    private static double Delta(MetricsScrape after, MetricsScrape before, string name, params (string Label, string Value)[] labels) =>
        after.Value(name, labels) - before.Value(name, labels);
}
