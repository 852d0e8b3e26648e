using System.Collections.Concurrent;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;

namespace SkyLight.Api.Hosting;

/// <summary>A row of a <see cref="LeasedQueue{TItem}"/>: work to do until it succeeds, with its retry bookkeeping.</summary>
internal interface IQueueItem
{
    long Id { get; }
    int Attempts { get; set; }
    DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>Set by the node working on it; another node takes over once it passes (the first one died).</summary>
    DateTimeOffset? LeasedUntil { get; set; }

    /// <summary>Why the last attempt failed, for whoever inspects the item. Never holds a secret.</summary>
    string? LastError { get; set; }

    /// <summary>When the item was set aside: it cannot be done, or failed too often. Kept for inspection, never tried again.</summary>
    DateTimeOffset? SetAsideAt { get; set; }
}

/// <summary>What became of one try of a queue item.</summary>
internal abstract record WorkOutcome
{
    public static readonly WorkOutcome Done = new DoneOutcome();

    /// <summary>Try again later, with back-off; set aside once the queue's attempts are used up.</summary>
    public static WorkOutcome Retry(string error) => new RetryOutcome(error);

    /// <summary>It can never succeed: keep it for inspection and never try it again.</summary>
    public static WorkOutcome SetAside(string error) => new SetAsideOutcome(error);

    internal sealed record DoneOutcome : WorkOutcome;

    internal sealed record RetryOutcome(string Error) : WorkOutcome;

    internal sealed record SetAsideOutcome(string Error) : WorkOutcome;
}

/// <summary>What a try's bookkeeping recorded: the outcome label of <c>skylight.queue.items</c>, or nothing (the item went meanwhile).</summary>
internal enum Settled
{
    Gone,
    Done,
    Retry,
    SetAside,
}

/// <summary>A queue's open items, how old the oldest is, and the items set aside, as the backlog gauges show them.</summary>
internal readonly record struct QueueBacklog(int Pending, DateTimeOffset? OldestQueuedAt, int SetAside);

/// <summary>
/// A durable work queue in one table, shared by every node: due items are claimed one by one with a lease (a node
/// that dies lets it lapse), each in its own scope so one failure never stops the others, retried with doubling
/// back-off, and set aside after <see cref="MaxAttempts"/>. The database wakes the queue when a transaction that
/// added an item commits (<see cref="SkyLightDb"/>), so no caller has to.
/// </summary>
internal abstract class LeasedQueue<TItem>(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options, ILogger log)
    : BackgroundLoop(time, options, log) where TItem : class, IQueueItem
{
    private const int MaxErrorLength = 500;

    protected virtual int Batch => 50;

    /// <summary>How many items one node works on at once.</summary>
    protected virtual int Parallelism => 1;

    /// <summary>How many tries an item gets before it is set aside.</summary>
    protected abstract int MaxAttempts { get; }

    /// <summary>The queue's label on its metrics.</summary>
    public abstract string Name { get; }

    /// <summary>Since when an open item has waited, for the age of the oldest (a redelivered delivery: since it was queued again).</summary>
    protected abstract Expression<Func<TItem, DateTimeOffset>> QueuedAt { get; }

    /// <summary>Which items are still to be done; an item that is not is never claimed (see <see cref="SettleAsync"/>).</summary>
    protected virtual Expression<Func<TItem, bool>> IsOpen => i => i.SetAsideAt == null;

    /// <summary>
    /// True for work that can take long (an HTTP call to someone else's server): a run starts each due item in the
    /// background, at most <see cref="Parallelism"/> at once on this node, and returns without waiting for them, so one
    /// slow item never holds up the items behind it.
    /// </summary>
    protected virtual bool RunsInBackground => false;

    /// <summary>What a run lists of a due item: its id, and the group it counts against (see <see cref="MaxInFlightPerGroup"/>).</summary>
    protected internal readonly record struct DueItem(long Id, long Group);

    /// <summary>The group of an item, for queues whose items belong to something that must not take every slot.</summary>
    protected virtual Expression<Func<TItem, DueItem>> Listed => i => new DueItem(i.Id, 0);

    /// <summary>How many items of one group may be under way at once on this node (background queues only).</summary>
    protected virtual int MaxInFlightPerGroup => int.MaxValue;

    /// <summary>The items outside the given groups: a run does not list what it could not start, so others behind them get their turn.</summary>
    protected virtual IQueryable<TItem> OutsideGroups(IQueryable<TItem> items, List<long> groups) => items;

    private readonly ConcurrentDictionary<long, byte> _inFlight = new();
    private readonly ConcurrentDictionary<long, int> _groupLoad = new();
    private SemaphoreSlim? _slots;

    /// <summary>How long a claim holds: longer than one try can take, or a second node would try it too.</summary>
    protected virtual TimeSpan Lease => Options.LeaseDuration;

    /// <summary>
    /// One try of the item, with the scope's services. <see cref="WorkOutcome.Done"/> removes the item; an exception
    /// counts as a <see cref="WorkOutcome.Retry"/> with the exception's type as the error.
    /// </summary>
    protected abstract Task<WorkOutcome> HandleAsync(TItem item, IServiceProvider services, CancellationToken ct);

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<DueItem> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var now = Time.GetUtcNow();
            var full = _groupLoad.Where(g => g.Value >= MaxInFlightPerGroup).Select(g => g.Key).ToList();
            var items = Items(scope.ServiceProvider.GetRequiredService<SkyLightDb>()).Where(IsOpen);
            due = await (full.Count > 0 ? OutsideGroups(items, full) : items)
                .Where(i => i.NextAttemptAt <= now && (i.LeasedUntil == null || i.LeasedUntil < now))
                .OrderBy(i => i.Id).Select(Listed).Take(Batch).ToListAsync(ct);
        }
        if (RunsInBackground)
        {
            return await StartAsync(due, ct);
        }
        await Parallel.ForEachAsync(due.Select(d => d.Id), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, TryAsync);
        return due.Count;
    }

    /// <summary>
    /// Starts the due items that are not under way on this node yet and whose group has room, waiting only for a free
    /// slot; returns how many it started.
    /// </summary>
    private async Task<int> StartAsync(List<DueItem> due, CancellationToken ct)
    {
        var slots = LazyInitializer.EnsureInitialized(ref _slots, () => new SemaphoreSlim(Parallelism));
        var started = 0;
        foreach (var (id, group) in due)
        {
            if (_groupLoad.GetValueOrDefault(group) >= MaxInFlightPerGroup || !_inFlight.TryAdd(id, 0))
            {
                continue;   // its group's share is under way (it is listed again once that finishes), or it is itself
            }
            _groupLoad.AddOrUpdate(group, 1, (_, load) => load + 1);
            try
            {
                await slots.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                Finished(id, group);
                throw;
            }
            started++;
            _ = Task.Run(async () =>
            {
                try
                {
                    await TryAsync(id, ct);
                }
                catch (OperationCanceledException)
                {
                    // stopping: the lease lapses and any node takes the item up again
                }
                finally
                {
                    Finished(id, group);
                    slots.Release();
                    Wake();   // a slot and its group's share are free: what waited behind them can start
                }
            }, CancellationToken.None);
        }
        return started;
    }

    /// <summary>The item is no longer under way on this node: its group's share is free again.</summary>
    private void Finished(long id, long group)
    {
        _inFlight.TryRemove(id, out _);
        _groupLoad.AddOrUpdate(group, 0, (_, load) => load - 1);
    }

    private async ValueTask TryAsync(long id, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await ProcessAsync(id, scope.ServiceProvider, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // not even the bookkeeping worked (the database is away): the lease lapses and the item comes back
            Log.LogWarning(e, "{Queue} item {ItemId} could not be processed; it is retried once its lease lapses", GetType().Name, id);
        }
    }

    /// <summary>
    /// Works on an item this node just saved (a webhook its receiver applies at once), in the background and in a scope of
    /// its own. It claims the item like any run of the loop, so whichever of the two gets there first does it; should this
    /// node die first, the item is simply due for the loop of any node.
    /// </summary>
    public void ProcessNow(long id)
    {
        if (RunsInBackground)
        {
            Wake();   // the loop starts it at once, within this node's limits
            return;
        }
        _ = Task.Run(async () => await TryAsync(id, CancellationToken.None));
    }

    private async Task ProcessAsync(long id, IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<SkyLightDb>();
        var now = Time.GetUtcNow();
        var leasedUntil = now + Lease;
        // due and free, checked again in the claim itself: the run that listed it may be late, after another try was made
        // and rescheduled (a ProcessNow), and must not make a second try at once
        if (await Items(db).Where(IsOpen).Where(i => i.Id == id && i.NextAttemptAt <= now && (i.LeasedUntil == null || i.LeasedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeasedUntil, leasedUntil), ct) == 0)
        {
            return;   // another node claimed it first
        }
        if (await Items(db).AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct) is not { } item)
        {
            return;   // deleted right after the claim (its owner went: a webhook endpoint, say)
        }
        WorkOutcome outcome;
        try
        {
            outcome = await HandleAsync(item, services, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LogWarning(e, "{Queue} item {ItemId} failed", GetType().Name, id);
            outcome = WorkOutcome.Retry(e is Unipile.UnipileException unipile ? $"Unipile: {unipile.Message}" : e.GetType().Name);
        }

        db.ChangeTracker.Clear();   // whatever the try left unsaved must not ride along with the bookkeeping
        if (await SettleAsync(db, item, outcome, ct) is var settled and not Settled.Gone)
        {
            services.GetRequiredService<Observability.SkyLightMetrics>().QueueItem(Name, settled);
        }
    }

    /// <summary>
    /// The backlog as the database holds it, across nodes: one node's figures are the service's, so a dashboard takes the
    /// maximum over nodes, not the sum.
    /// </summary>
    public async Task<QueueBacklog> ReadBacklogAsync(SkyLightDb db, CancellationToken ct)
    {
        var open = Items(db).AsNoTracking().Where(IsOpen);
        var pending = await open.CountAsync(ct);
        DateTimeOffset? oldest = pending == 0 ? null : await open.OrderBy(QueuedAt).Select(QueuedAt).FirstOrDefaultAsync(ct);
        return new QueueBacklog(pending, oldest, await Items(db).CountAsync(i => i.SetAsideAt != null, ct));
    }

    /// <summary>
    /// Records a try's outcome and releases the claim: a done item is deleted, a failed one is due again after a doubling
    /// back-off, or set aside once <see cref="MaxAttempts"/> are used up.
    /// </summary>
    protected virtual async Task<Settled> SettleAsync(SkyLightDb db, TItem item, WorkOutcome outcome, CancellationToken ct)
    {
        var id = item.Id;
        if (outcome is WorkOutcome.DoneOutcome)
        {
            return await Items(db).Where(i => i.Id == id).ExecuteDeleteAsync(ct) == 0 ? Settled.Gone : Settled.Done;
        }
        var (error, setAside) = outcome switch
        {
            WorkOutcome.SetAsideOutcome s => (s.Error, true),
            WorkOutcome.RetryOutcome r => (r.Error, item.Attempts + 1 >= MaxAttempts),
            _ => throw new InvalidOperationException($"Unknown outcome {outcome}"),
        };
        error = Truncate(error);
        var attempts = item.Attempts + 1;
        DateTimeOffset? setAsideAt = setAside ? Time.GetUtcNow() : null;
        var next = setAside ? item.NextAttemptAt : RetryAt(attempts);
        if (await Items(db).Where(i => i.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.Attempts, attempts).SetProperty(i => i.LastError, error).SetProperty(i => i.LeasedUntil, (DateTimeOffset?)null)
            .SetProperty(i => i.SetAsideAt, setAsideAt).SetProperty(i => i.NextAttemptAt, next), ct) == 0)
        {
            return Settled.Gone;
        }
        if (setAside)
        {
            Log.LogWarning("{Queue} item {ItemId} set aside after {Attempts} tries: {Error}", GetType().Name, id, attempts, error);
        }
        return setAside ? Settled.SetAside : Settled.Retry;
    }

    /// <summary>Every workspace's items: a queue serves them all (some items are a workspace's and carry its tenant filter).</summary>
    protected static IQueryable<TItem> Items(SkyLightDb db) => db.Set<TItem>().IgnoreQueryFilters([SkyLightDb.TenantFilter]);

    protected static string Truncate(string error) => error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
}
