using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;

namespace SkyLight.Api.Tests.Channels;

/// <summary>Events and ended attempts past <c>Channels:EventRetention</c> are purged; the rest stay. On the fake clock.</summary>
public sealed class JournalRetentionTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventsAndEndedAttemptsOlderThanTheRetentionArePurgedAndNothingElse()
    {
        var workspace = await app.NewWorkspaceAsync();
        var old = await ExpiredAttemptAsync(workspace.Id, "whatsapp");
        app.Time.Advance(TimeSpan.FromDays(91));
        var recent = await ExpiredAttemptAsync(workspace.Id, "telegram");

        // the job, or its hourly run that the clock's jump just woke, purges under one lease
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            await app.Services.GetRequiredService<JournalRetention>().RunOnceAsync(Ct);
            return !await db.ChannelEvents.IgnoreQueryFilters().AnyAsync(e => e.ChannelId == old, Ct);
        }, "the old events were never purged");
        var events = await db.ChannelEvents.IgnoreQueryFilters().Where(e => e.WorkspaceId == workspace.Id).Select(e => e.ChannelId).ToListAsync(Ct);
        var attempts = await db.ConnectAttempts.IgnoreQueryFilters().Where(a => a.WorkspaceId == workspace.Id).Select(a => a.ChannelId).ToListAsync(Ct);
        Assert.Equal([recent, recent], events);
        Assert.Equal([recent], attempts);
        Assert.DoesNotContain(old, events);
        Assert.True(await db.Channels.IgnoreQueryFilters().AnyAsync(c => c.Id == old, Ct));   // the channel itself is not the journal's to purge
    }

    [Fact]
    public async Task ConnectLinksExpiredLongerThanTheRetentionArePurged()
    {
        var workspace = await app.NewWorkspaceAsync();
        var old = await LinkAsync(workspace.Id);
        app.Time.Advance(TimeSpan.FromDays(91));
        var recent = await LinkAsync(workspace.Id);

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            await app.Services.GetRequiredService<JournalRetention>().RunOnceAsync(Ct);
            return !await db.ConnectLinks.IgnoreQueryFilters().AnyAsync(l => l.Id == old, Ct);
        }, "the old link was never purged");
        Assert.True(await db.ConnectLinks.IgnoreQueryFilters().AnyAsync(l => l.Id == recent, Ct));
    }

    private async Task<Guid> LinkAsync(int workspaceId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var now = app.Time.GetUtcNow();
        var link = db.ConnectLinks.Add(new Api.Connect.ConnectLink
        {
            Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, ChannelType = "whatsapp", TokenHash = Api.Connect.ConnectLink.HashOf(Guid.NewGuid().ToString()),
            CreatedAt = now, ExpiresAt = now.AddHours(1), TriesWindowStartedAt = now,
        }).Entity;
        await db.SaveChangesAsync(Ct);
        return link.Id;
    }

    /// <summary>A channel with one attempt that started and expired now: two events and an ended attempt. Returns the channel's id.</summary>
    private async Task<int> ExpiredAttemptAsync(int workspaceId, string type)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var lifecycle = scope.ServiceProvider.GetRequiredService<ChannelLifecycle>();
        var channel = lifecycle.NewChannel(workspaceId, type);
        var attempt = lifecycle.StartAttempt(channel, new NewAccount($"acct_{Guid.NewGuid():N}", false, null), "2@qr", null, TimeSpan.FromMinutes(5));
        lifecycle.EndAttempt(attempt, channel, AttemptEnd.Expired, StatusReason.QrExpired, ChangeSource.Expiry);
        await db.SaveChangesAsync(Ct);
        return channel.Id;
    }
}
