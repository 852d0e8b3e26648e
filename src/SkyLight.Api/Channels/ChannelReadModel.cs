using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>A workspace's channel of one type as last read, with its latest connect attempt; both detached, never changed.</summary>
internal sealed record ChannelSnapshot(Channel? Channel, ConnectAttempt? LatestAttempt);

/// <summary>
/// This node's read model of channel status, so polling status costs no database round trip: per workspace and type,
/// the channel and its latest attempt, read from the database on first use. A snapshot is dropped when this node commits
/// a change to it (<see cref="CommitSignals"/>: a node sees its own writes at once), when the change feed brings another
/// node's event for it (tens of milliseconds), and in any case once it is <see cref="CacheOptions.MaxAge"/> old, which
/// bounds what changes without an event (<c>last_synced_at</c>) or what a feed that fell behind has not told yet.
/// </summary>
internal sealed class ChannelReadModel(ChannelEventFeed feed, IServiceScopeFactory scopes, TimeProvider time, IOptions<CacheOptions> options,
    ILogger<ChannelReadModel> log) : BackgroundService
{
    /// <summary>Names the first of the two reads of a fill in SQL, for traces and for the test that holds a fill between them.</summary>
    public const string FirstReadTag = "status: first read";

    private readonly FreshCache<(int WorkspaceId, string Type), ChannelSnapshot> _snapshots = new(time, options.Value.MaxAge, options.Value.Channels);

    public int Count => _snapshots.Count;

    /// <summary>The snapshot from memory, or read with the request's database (resolved only then) and kept; and which it was.</summary>
    public async ValueTask<(ChannelSnapshot Snapshot, bool FromMemory)> GetAsync(IServiceProvider requestServices, int workspaceId, string type, CancellationToken ct)
    {
        var key = (workspaceId, type);
        if (_snapshots.TryGet(key, out var snapshot))
        {
            return (snapshot, true);
        }
        var ticket = _snapshots.BeforeRead(key);
        var db = requestServices.GetRequiredService<SkyLightDb>();
        // the attempt first, then the channel: read the other way round, the two could straddle a completion and show
        // a completed attempt on a channel that is not connected yet
        var attempt = await db.ConnectAttempts.AsNoTracking().TagWith(FirstReadTag)
            .Where(a => a.ChannelType == type).OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
        var channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == type, ct);
        snapshot = new ChannelSnapshot(channel, attempt);
        _snapshots.Store(key, snapshot, ticket);
        return (snapshot, false);
    }

    /// <summary>
    /// Re-reads the snapshots in use, in bulk. The order of the two reads does not matter here as it does in
    /// <see cref="GetAsync"/>: a change that commits between them drops what this stores (its generation moved).
    /// </summary>
    public Task RefreshAsync(CancellationToken ct) => _snapshots.RefreshAsync(async (used, token) =>
    {
        var fresh = new Dictionary<(int WorkspaceId, string Type), ChannelSnapshot>();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        foreach (var chunk in used.Chunk(1_000))
        {
            var workspaces = chunk.Select(u => u.Key.WorkspaceId).Distinct().ToList();
            var channels = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
                .Where(c => workspaces.Contains(c.WorkspaceId)).ToDictionaryAsync(c => (c.WorkspaceId, c.Type), token);
            var channelIds = channels.Values.Select(c => c.Id).ToList();
            var latest = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
                .Where(a => channelIds.Contains(a.ChannelId)).GroupBy(a => a.ChannelId).Select(g => g.Max(a => a.Id)).ToListAsync(token);
            var attempts = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
                .Where(a => latest.Contains(a.Id)).ToDictionaryAsync(a => (a.WorkspaceId, a.ChannelType), token);
            foreach (var (key, _) in chunk)
            {
                fresh[key] = new ChannelSnapshot(channels.GetValueOrDefault(key), attempts.GetValueOrDefault(key));
            }
        }
        return fresh;
    }, ct);

    public void Invalidate(int workspaceId, string type) => _snapshots.Invalidate((workspaceId, type));

    /// <summary>Drops the snapshot of every channel another node (or this one) changed, as its event commits.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var subscription = await feed.SubscribeAsync(stoppingToken);
            await foreach (var channelEvent in subscription.Events.ReadAllAsync(stoppingToken))
            {
                Invalidate(channelEvent.WorkspaceId, channelEvent.ChannelType);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
        catch (Exception e)
        {
            // snapshots still age out after Cache:MaxAge, so status stays within its bound without the feed
            log.LogError(e, "The channel read model stopped following the event feed");
        }
    }
}
