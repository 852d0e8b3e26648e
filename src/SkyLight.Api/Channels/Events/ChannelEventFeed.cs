using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using SkyLight.Api.Data;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// New channel events as they commit, for code on this node that follows them (outgoing webhooks, live streams,
/// read models). The journal is the truth: the feed reads it in id order from where it stopped, whenever a local
/// commit, a PostgreSQL NOTIFY from another node or the periodic catch-up says there may be more. A lost
/// notification delays an event by at most <see cref="ChannelsOptions.FeedCatchUpInterval"/>; it never loses one.
/// A subscriber gets the events committed after it subscribed, in id order, each once.
/// </summary>
internal sealed class ChannelEventFeed(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options, ILogger<ChannelEventFeed> log)
    : BackgroundService
{
    /// <summary>The PostgreSQL advisory lock that orders journal writes (an arbitrary constant: "SkyLight" in ASCII).</summary>
    public const long JournalLock = 0x536B794C69676874;

    /// <summary>The PostgreSQL notification channel; the payload is the last event id of the committed transaction.</summary>
    public const string NotifyChannel = "skylight_channel_events";

    /// <summary>The application name of the listening connection, so an operator (or a test) can find it.</summary>
    public const string ListenerApplicationName = "skylight-event-feed";

    private const int Batch = 500;

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<ChannelWriter<ChannelEvent>> _subscribers = [];
    private long _last = -1;

    /// <summary>There may be new events: read the journal now.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken; that read sees these events too
        }
    }

    /// <summary>
    /// Follows the events committed from now on. Read <see cref="FeedSubscription.Events"/>; dispose to stop. The
    /// buffer is unbounded: a subscriber that falls far behind should resume from the journal instead.
    /// </summary>
    public async Task<FeedSubscription> SubscribeAsync(CancellationToken ct)
    {
        await _started.Task.WaitAsync(ct);   // the feed knows where the journal stood before anyone may wait on it
        // not SingleReader: only the multi-reader channel can count its backlog, which a follower that falls behind reads
        var channel = System.Threading.Channels.Channel.CreateUnbounded<ChannelEvent>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
        lock (_sync)
        {
            _subscribers = [.. _subscribers, channel.Writer];
        }
        return new FeedSubscription(channel.Reader, () =>
        {
            lock (_sync)
            {
                _subscribers = [.. _subscribers.Where(w => w != channel.Writer)];
            }
            channel.Writer.TryComplete();
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        bool postgres;
        string? connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
            postgres = db.Database.IsNpgsql();
            connectionString = db.Database.GetConnectionString();
            while (_last < 0)
            {
                try
                {
                    _last = await db.ChannelEvents.IgnoreQueryFilters([SkyLightDb.TenantFilter]).MaxAsync(e => (long?)e.Id, stoppingToken) ?? 0;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "The event feed could not read the journal; trying again");
                    await Task.Delay(options.Value.FeedCatchUpInterval, time, stoppingToken);
                }
            }
        }
        _started.TrySetResult();
        var listener = postgres && connectionString is not null ? ListenAsync(connectionString, stoppingToken) : Task.CompletedTask;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DispatchAsync(stoppingToken) == Batch)
                {
                    // a burst: read on until the journal is caught up
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "The event feed could not read the journal; it tries again at the next catch-up");
            }
            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(Task.Delay(options.Value.FeedCatchUpInterval, time, sleep.Token), _wake.WaitAsync(sleep.Token));
            await sleep.CancelAsync();
        }
        await listener;
    }

    /// <summary>Hands the events after the last one dispatched to every subscriber; returns how many it read.</summary>
    private async Task<int> DispatchAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var after = _last;
        var events = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ChannelEvents.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
            .Where(e => e.Id > after).OrderBy(e => e.Id).Take(Batch).ToListAsync(ct);
        if (events.Count == 0)
        {
            return 0;
        }
        List<ChannelWriter<ChannelEvent>> subscribers;
        lock (_sync)
        {
            subscribers = _subscribers;
        }
        foreach (var channelEvent in events)
        {
            foreach (var subscriber in subscribers)
            {
                subscriber.TryWrite(channelEvent);
            }
        }
        _last = events[^1].Id;   // read and written by this loop only
        return events.Count;
    }

    /// <summary>
    /// PostgreSQL: LISTENs on a connection of its own and wakes the feed on every notification. A broken connection is
    /// opened again, and the feed catches up right after, so what was committed meanwhile is read all the same.
    /// </summary>
    private async Task ListenAsync(string connectionString, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ListenerApplicationName, Pooling = false, KeepAlive = 10 };
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {NotifyChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                Wake();   // what committed while nobody listened
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning("The event feed's PostgreSQL listener failed ({Error}); listening again", e.Message);
                Wake();
                await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>A subscriber's view of the <see cref="ChannelEventFeed"/>: the events committed since it subscribed.</summary>
internal sealed class FeedSubscription(ChannelReader<ChannelEvent> events, Action unsubscribe) : IDisposable
{
    public ChannelReader<ChannelEvent> Events { get; } = events;

    public void Dispose() => unsubscribe();
}
