using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Notifications;

/// <summary>How far a follower of the journal has got: the last event id it fully handled.</summary>
internal sealed class JournalCursor
{
    public required string Name { get; init; }
    public long LastEventId { get; set; }
}

/// <summary>
/// Turns journal events into deliveries: for each event, one <see cref="WebhookDelivery"/> per active endpoint of its
/// workspace that subscribed to its type (and existed when it happened). The cursor and the deliveries it made commit
/// together, under the cursor's row lock, so any node may run it and each event is fanned out exactly once; a node
/// that dies midway rolls back and the next run does that batch again. Woken by the change feed, which sees every
/// node's events.
/// </summary>
internal sealed class DeliveryFanOut(IServiceScopeFactory scopes, ChannelEventFeed feed, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<DeliveryFanOut> log) : BackgroundLoop(time, options, log)
{
    public const string CursorName = "webhook-deliveries";
    private const int Batch = 500;

    private bool _cursorExists;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = await feed.SubscribeAsync(stoppingToken);
        var follow = FollowAsync(subscription, stoppingToken);
        await base.ExecuteAsync(stoppingToken);
        await follow;
    }

    private async Task FollowAsync(FeedSubscription subscription, CancellationToken ct)
    {
        try
        {
            while (await subscription.Events.WaitToReadAsync(ct))
            {
                while (subscription.Events.TryRead(out _))
                {
                    // one wake covers the burst
                }
                Wake();
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        if (!_cursorExists)
        {
            await EnsureCursorAsync(db, ct);
            _cursorExists = true;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // the row lock: a second node running now waits here, then sees the cursor this run leaves
        await db.JournalCursors.Where(c => c.Name == CursorName).ExecuteUpdateAsync(s => s.SetProperty(c => c.LastEventId, c => c.LastEventId), ct);
        var cursor = await db.JournalCursors.SingleAsync(c => c.Name == CursorName, ct);
        var events = await db.ChannelEvents.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
            .Where(e => e.Id > cursor.LastEventId).OrderBy(e => e.Id).Take(Batch).ToListAsync(ct);
        if (events.Count == 0)
        {
            await transaction.CommitAsync(ct);
            return 0;
        }

        var workspaceIds = events.Select(e => e.WorkspaceId).Distinct().ToList();
        var endpoints = (await db.WebhookEndpoints.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
                .Where(e => workspaceIds.Contains(e.WorkspaceId) && e.IsActive).ToListAsync(ct))
            .ToLookup(e => e.WorkspaceId);
        var deliveries = 0;
        if (endpoints.Count > 0)
        {
            var channelIds = events.Select(e => e.ChannelId).Distinct().ToList();
            var channels = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
                .Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
            var zones = await db.Workspaces.AsNoTracking().Where(w => workspaceIds.Contains(w.Id))
                .ToDictionaryAsync(w => w.Id, w => WorkspaceTime.FindZone(w.TimeZone) ?? TimeZoneInfo.Utc, ct);
            var now = Time.GetUtcNow();
            foreach (var channelEvent in events)
            {
                var type = EventNames.Of(channelEvent.Type);
                string? data = null;
                foreach (var endpoint in endpoints[channelEvent.WorkspaceId].Where(e => e.Receives(type) && e.CreatedAt <= channelEvent.OccurredAt))
                {
                    data ??= WebhookPayloads.ChannelEvent(channelEvent, channels.GetValueOrDefault(channelEvent.ChannelId), zones[channelEvent.WorkspaceId]);
                    db.WebhookDeliveries.Add(New(endpoint, type, channelEvent.Id, data, now));
                    deliveries++;
                }
            }
        }
        cursor.LastEventId = events[^1].Id;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        if (deliveries > 0)
        {
            Log.LogDebug("Fanned out {Events} channel events into {Deliveries} webhook deliveries", events.Count, deliveries);
        }
        return events.Count;
    }

    public static WebhookDelivery New(WebhookEndpoint endpoint, string eventType, long? eventId, string data, DateTimeOffset now) => new()
    {
        DeliveryId = Guid.CreateVersion7(now), WorkspaceId = endpoint.WorkspaceId, EndpointId = endpoint.Id, EventType = eventType, EventId = eventId,
        Data = data, CreatedAt = now, NextAttemptAt = now, RoundStartedAt = now,
    };

    /// <summary>
    /// The cursor starts at the journal's beginning: no event is ever skipped, not even one committed before the first
    /// run; endpoints only get events that happened after they were created anyway.
    /// </summary>
    private static async Task EnsureCursorAsync(SkyLightDb db, CancellationToken ct)
    {
        if (await db.JournalCursors.AnyAsync(c => c.Name == CursorName, ct))
        {
            return;
        }
        try
        {
            db.JournalCursors.Add(new JournalCursor { Name = CursorName, LastEventId = 0 });
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // another node made it first
        }
        db.ChangeTracker.Clear();
    }
}
