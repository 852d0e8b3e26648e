using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// Follows one workspace's channel events in id order: first those after a given id from the journal, then each new one
/// as the <see cref="ChannelEventFeed"/> hands it over. It subscribes before it reads the journal and skips what it
/// already gave, so nothing is missed between the two and nothing comes twice.
/// </summary>
internal sealed class JournalFollower(ChannelEventFeed feed, IServiceScopeFactory scopes)
{
    /// <summary>Names the catch-up read of the journal, so a test can hold a follower between its subscription and its read.</summary>
    public const string CatchUpTag = "stream: catch up from the journal";

    /// <summary>
    /// Subscribes now: the events after <paramref name="after"/>, or, when it is null, every event committed after this
    /// returns. Dispose the answer to stop following.
    /// </summary>
    public async Task<FollowedJournal> StartAsync(int workspaceId, string? type, long? after, CancellationToken ct)
    {
        var subscription = await feed.SubscribeAsync(ct);
        try
        {
            // an id past the journal's newest (another deployment's, a restored database's) follows from the newest: taken
            // as it is, it would skip every event until the journal's ids caught up with it
            var latest = await LatestAsync(ct);
            after = after is { } given ? Math.Min(given, latest) : latest;
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
        return new FollowedJournal(feed, subscription, (last, token) => ReadAsync(workspaceId, type, last, token),
            e => e.WorkspaceId == workspaceId && (type is null || e.ChannelType == type), after!.Value);
    }

    /// <summary>The journal's newest id, of any workspace: ids grow across them all.</summary>
    private async Task<long> LatestAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await Journal(scope).MaxAsync(e => (long?)e.Id, ct) ?? 0;
    }

    private async Task<List<ChannelEvent>> ReadAsync(int workspaceId, string? type, long after, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await Journal(scope).TagWith(CatchUpTag)
            .Where(e => e.WorkspaceId == workspaceId && (type == null || e.ChannelType == type) && e.Id > after)
            .OrderBy(e => e.Id).Take(FollowedJournal.Batch).ToListAsync(ct);
    }

    private static IQueryable<ChannelEvent> Journal(AsyncServiceScope scope) =>
        scope.ServiceProvider.GetRequiredService<SkyLightDb>().ChannelEvents.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking();
}

/// <summary>
/// A subscription of <see cref="JournalFollower"/>: read <see cref="ReadAllAsync"/> once; dispose to stop. A reader that
/// falls behind the feed by more than <see cref="MaxBacklog"/> events drops its buffer and reads the journal again.
/// </summary>
internal sealed class FollowedJournal(
    ChannelEventFeed feed, FeedSubscription subscription, Func<long, CancellationToken, Task<List<ChannelEvent>>> readJournal,
    Func<ChannelEvent, bool> isFollowed, long after) : IDisposable
{
    public const int Batch = 500;
    public const int MaxBacklog = 10_000;

    private FeedSubscription _subscription = subscription;

    /// <summary>The id it follows from: the events it gives are those after it.</summary>
    public long After { get; } = after;

    public async IAsyncEnumerable<ChannelEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var last = After;
        while (true)
        {
            List<ChannelEvent> batch;
            do
            {
                batch = await readJournal(last, ct);
                foreach (var channelEvent in batch)
                {
                    yield return channelEvent;
                    last = channelEvent.Id;
                }
            }
            while (batch.Count == Batch);

            var events = _subscription.Events;
            while (events.Count <= MaxBacklog && await events.WaitToReadAsync(ct))
            {
                while (events.Count <= MaxBacklog && events.TryRead(out var channelEvent))
                {
                    if (isFollowed(channelEvent) && channelEvent.Id > last)
                    {
                        yield return channelEvent;
                        last = channelEvent.Id;
                    }
                }
            }
            // fallen behind: the journal has it all; the buffer goes with the old subscription
            _subscription.Dispose();
            _subscription = await feed.SubscribeAsync(ct);
        }
    }

    public void Dispose() => _subscription.Dispose();
}
