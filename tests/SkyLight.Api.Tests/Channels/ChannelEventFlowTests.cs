using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Channels;

/// <summary>Instagram's login writes its checkpoints, wrong codes, refused checks and passwords to the journal.</summary>
public sealed class InstagramEventTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CodesRoundByRoundWriteCheckpointEventsThenConnected()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["OTP", "2FA"], code: "111111");
        var sdk = Events.Client(workspace);

        var login = await sdk.Instagram.ConnectAsync(username, "pw", cancellationToken: Ct);
        var accountId = login.Verification!.AccountId;
        await Assert.ThrowsAsync<SkyLightApiException>(() => sdk.Instagram.SubmitCodeAsync(accountId, "999999", Ct));
        await sdk.Instagram.SubmitCodeAsync(accountId, "111111", Ct);
        await sdk.Instagram.SubmitCodeAsync(accountId, "111111", Ct);
        var events = await Events.AllAsync(workspace, "instagram");

        Assert.Equal(5, events.Count);
        Events.AssertIs(events[0], "channel.connect_started", "connect_requested", "user", (null, null), ("CONNECTING", false));
        Events.AssertIs(events[1], "channel.checkpoint_required", "code_sent", "user", ("CONNECTING", false), ("CONNECTING", false));
        Events.AssertIs(events[2], "channel.checkpoint_required", "wrong_code", "user", ("CONNECTING", false), ("CONNECTING", false));
        Events.AssertIs(events[3], "channel.checkpoint_required", "another_round", "user", ("CONNECTING", false), ("CONNECTING", false));
        Events.AssertIs(events[4], "channel.connected", "login_completed", null, ("CONNECTING", false), ("OK", true));
        Assert.Contains(events[4].Source, new[] { "login_answer", "webhook" });   // Unipile's answer and its webhook race
        Assert.All(events, e => Assert.Equal(accountId, e.AccountId));
        await sdk.Instagram.DisconnectAsync(Ct);
    }

    [Fact]
    public async Task ACaptchaInALaterRoundFailsTheAttemptWithItsReason()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync(["OTP", "CAPTCHA"]);
        var sdk = Events.Client(workspace);

        var accountId = (await sdk.Instagram.ConnectAsync(username, "pw", cancellationToken: Ct)).Verification!.AccountId;
        await Assert.ThrowsAsync<SkyLightApiException>(() => sdk.Instagram.SubmitCodeAsync(accountId, "123456", Ct));
        var events = await Events.AllAsync(workspace, "instagram");

        Events.AssertIs(events[^1], "channel.connect_failed", "captcha_required", "user", ("CONNECTING", false), ("CREATION_FAIL", false));
        Assert.Equal("captcha_required", (await sdk.Instagram.GetStatusAsync(Ct)).StatusReason);
    }

    [Fact]
    public async Task AWrongPasswordOnAReconnectIsRecordedOnTheChannel()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = await ScriptedUserAsync([], password: "right");
        var sdk = Events.Client(workspace);
        var connected = (await sdk.Instagram.ConnectAsync(username, "right", cancellationToken: Ct)).Channel!;
        var account = (await Events.AllAsync(workspace, "instagram"))[^1].AccountId!;
        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{account}/status", new { status = "CREDENTIALS" });
        await Events.WaitForAsync(workspace, "instagram", 3);

        var refused = await Assert.ThrowsAsync<SkyLightApiException>(() => sdk.Instagram.ConnectAsync(username, "wrong", cancellationToken: Ct));
        var events = await Events.AllAsync(workspace, "instagram");

        Assert.Equal(422, (int)refused.StatusCode);
        Events.AssertIs(events[^1], "channel.connect_failed", "wrong_password", "user", ("CREDENTIALS", false), ("CREDENTIALS", false));
        Assert.Equal(connected.Id, events[^1].ChannelId);
    }

    private async Task<string> ScriptedUserAsync(string[] checkpoints, string code = "123456", string password = "pw")
    {
        var username = $"ig_{Guid.NewGuid():N}"[..16];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password, checkpoints, code });
        return username;
    }
}

/// <summary>An attempt nobody completes ends with connect_expired and the reason of its kind.</summary>
public sealed class ExpiryEventTests(ShortAttemptsApp app) : IClassFixture<ShortAttemptsApp>
{
    [Fact]
    public async Task AnUnscannedQrExpiresWithQrExpired()
    {
        var workspace = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");

        app.OutliveAttempts();
        var events = await Events.WaitForAsync(workspace, "telegram", 2);

        Events.AssertIs(events[1], "channel.connect_expired", "qr_expired", null, ("CONNECTING", false), ("CREATION_FAIL", false));
        Assert.Contains(events[1].Source, new[] { "expiry", "status_poll" });
        Assert.Equal("qr_expired", (await Events.Client(workspace).Telegram.GetStatusAsync(cancellationToken: TestContext.Current.CancellationToken)).StatusReason);
    }
}

/// <summary>A service whose journal writes fail on demand, after the change was made and before it commits.</summary>
public sealed class FailingJournalApp : ChannelsApp
{
    public JournalFault Fault { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Fault));
    }
}

/// <summary>Fails every INSERT into the journal while armed.</summary>
public sealed class JournalFault : DbCommandInterceptor
{
    private volatile bool _armed;

    /// <summary>Sends a request while every journal write fails.</summary>
    public async Task<HttpResponseMessage> DuringAsync(Func<Task<HttpResponseMessage>> request)
    {
        _armed = true;
        try
        {
            return await request();
        }
        finally
        {
            _armed = false;
        }
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        _armed && command.CommandText.Contains("channel_events", StringComparison.Ordinal) && command.CommandText.Contains("INSERT", StringComparison.Ordinal)
            ? throw new InvalidOperationException("journal write failed (injected)")
            : base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
}

/// <summary>A change and its event commit together or not at all.</summary>
public sealed class JournalAtomicityTests(FailingJournalApp app) : IClassFixture<FailingJournalApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AFailedJournalWriteLeavesNeitherTheDisconnectNorItsEvent()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await app.WebhooksSettledAsync(accountId, 2);
        var before = await Events.AllAsync(workspace, "whatsapp");

        var failed = await app.Fault.DuringAsync(() => workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var channel = await Events.Client(workspace).WhatsApp.GetStatusAsync(cancellationToken: Ct);
        Assert.Equal((channelId, true), (channel.Id, channel.IsConnected));
        Assert.Equal(before.Select(e => e.Id), (await Events.AllAsync(workspace, "whatsapp")).Select(e => e.Id));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            Assert.False(await scope.ServiceProvider.GetRequiredService<SkyLightDb>().RemoteDeletions.AnyAsync(d => d.UnipileAccountId == accountId, Ct));
        }
        Assert.Contains(accountId, await app.EmulatorAccountIdsAsync());

        // unarmed, the same disconnect commits with its event
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).StatusCode);
        Assert.Equal("channel.disconnected", (await Events.AllAsync(workspace, "whatsapp"))[^1].Type);
    }

    [Fact]
    public async Task AFailedJournalWriteLeavesNeitherAConnectNorItsAttempt()
    {
        var workspace = await app.NewWorkspaceAsync();

        var failed = await app.Fault.DuringAsync(() => workspace.Client.PostAsync("/api/v1/channels/telegram/connect", null, Ct));

        Assert.NotEqual(HttpStatusCode.OK, failed.StatusCode);   // the save kept failing: a 409 that asks to try again
        Assert.Equal(HttpStatusCode.NotFound, (await workspace.Client.GetAsync("/api/v1/channels/telegram/status", Ct)).StatusCode);
        Assert.Empty(await Events.AllAsync(workspace, "telegram"));
        Assert.Empty(await app.OrphanedAccountsAsync());   // the account Unipile made for the failed connect is deleted at once
    }
}

/// <summary>The timeline API: paging, following with ?after=, the type filter, errors.</summary>
public sealed class TimelineApiTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NewestFirstInPagesOrOldestFirstAfterAnId()
    {
        var workspace = await app.NewWorkspaceAsync();
        for (var i = 0; i < 3; i++)
        {
            await ChannelsApp.ConnectAsync(workspace.Client, "telegram");   // 1 + 2 + 2 events
        }
        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");
        var sdk = Events.Client(workspace);

        var first = await sdk.Channels.GetEventsAsync(new ChannelEventQuery { PerPage = 4 }, Ct);
        var second = await sdk.Channels.GetEventsAsync(new ChannelEventQuery { PerPage = 4, Page = 2 }, Ct);
        var telegram = await sdk.Telegram.GetEventsAsync(cancellationToken: Ct);
        var filtered = await sdk.Channels.GetEventsAsync(new ChannelEventQuery { Type = "whatsapp" }, Ct);
        var after = await sdk.Channels.GetEventsAsync(new ChannelEventQuery { After = second.Items[^1].Id, PerPage = 2 }, Ct);

        Assert.Equal((1, 2, 4, 6), (first.CurrentPage, first.LastPage, first.PerPage, first.Total));
        Assert.Equal("whatsapp", first.Items[0].ChannelType);
        var ids = first.Items.Concat(second.Items).Select(e => e.Id).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.Equal(5, telegram.Total);
        Assert.All(telegram.Items, e => Assert.Equal("telegram", e.ChannelType));
        Assert.Equal(1, filtered.Total);
        Assert.Equal(ids.Order().Skip(1).Take(2), after.Items.Select(e => e.Id));
        Assert.Equal(5, after.Total);
        Assert.Equal(TimeSpan.FromHours(3), first.Items[0].OccurredAt.Offset);   // the workspace's time zone
    }

    [Theory]
    [InlineData("?type=sms", "type")]
    [InlineData("?after=-1", "after")]
    [InlineData("?after=x", "after")]
    [InlineData("?per_page=101", "per_page")]
    [InlineData("?page=0", "page")]
    public async Task ABadQueryIsA422OnItsField(string query, string field)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.GetAsync("/api/v1/channels/events" + query, Ct);

        Assert.Equal(422, (int)response.StatusCode);
        Assert.True((await response.BodyAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }
}

/// <summary>Inside a node, code can follow events as they commit.</summary>
public sealed class ChannelEventFeedTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    [Fact]
    public async Task ASubscriberGetsEachCommittedEventOnceInOrder()
    {
        var workspace = await app.NewWorkspaceAsync();
        var feed = app.Services.GetRequiredService<ChannelEventFeed>();
        using var subscription = await feed.SubscribeAsync(TestContext.Current.CancellationToken);

        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        var journal = await Events.AllAsync(workspace, "telegram");
        var seen = new List<long>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (seen.Count < journal.Count)
        {
            var next = await subscription.Events.ReadAsync(timeout.Token);
            if (next.WorkspaceId == workspace.Id)
            {
                seen.Add(next.Id);
            }
        }

        Assert.Equal(journal.Select(e => e.Id), seen);
    }
}
