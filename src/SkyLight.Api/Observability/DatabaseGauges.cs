using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Notifications;
using SkyLight.Api.Webhooks;

namespace SkyLight.Api.Observability;

/// <summary>
/// Gauges read from the database when metrics are collected (a scrape), never on a request's path: channels by type and
/// sync_status, and each queue's open items, the age of its oldest, and what it set aside. Every node reads the same
/// shared tables, so across nodes these are the same figures: take the maximum, not the sum.
/// </summary>
internal sealed class DatabaseGauges
{
    /// <summary>The three backlog gauges of one scrape share one reading of the queues.</summary>
    private static readonly TimeSpan ReadingReuse = TimeSpan.FromSeconds(1);

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private (long TakenAt, List<(string Queue, QueueBacklog Backlog)> Backlogs)? _reading;

    public DatabaseGauges(Meter meter, IServiceScopeFactory scopes, TimeProvider time, ILogger log)
    {
        (_scopes, _time, _log) = (scopes, time, log);
        meter.CreateObservableGauge("skylight.channels", ReadChannels, "{channel}", "Channels by channel type and sync_status");
        meter.CreateObservableGauge("skylight.queue.pending", () => Each(b => b.Pending), "{item}",
            "Open items of a queue (unipile_webhooks, remote_deletions, webhook_deliveries): not done and not set aside");
        meter.CreateObservableGauge("skylight.queue.oldest_age", () => Each(b => b.OldestQueuedAt is { } at ? Math.Max(0, (_time.GetUtcNow() - at).TotalSeconds) : 0),
            "s", "How long the oldest open item of a queue has waited (0 when none waits)");
        meter.CreateObservableGauge("skylight.queue.set_aside", () => Each(b => b.SetAside), "{item}",
            "Items a queue gave up on and keeps for an operator to inspect");
    }

    private IEnumerable<Measurement<long>> ReadChannels() => Read((db, _) =>
        db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
            .GroupBy(c => new { c.Type, c.SyncStatus }).Select(g => new { g.Key.Type, g.Key.SyncStatus, Count = g.Count() }).ToList()
            .Select(g => new Measurement<long>(g.Count, new KeyValuePair<string, object?>("channel.type", g.Type), new("sync_status", g.SyncStatus))));

    private IEnumerable<Measurement<T>> Each<T>(Func<QueueBacklog, T> figure) where T : struct =>
        Backlogs().Select(q => new Measurement<T>(figure(q.Backlog), new KeyValuePair<string, object?>("queue", q.Queue)));

    private List<(string Queue, QueueBacklog Backlog)> Backlogs()
    {
        lock (_gate)
        {
            if (_reading is { } reading && Stopwatch.GetElapsedTime(reading.TakenAt) < ReadingReuse)
            {
                return reading.Backlogs;
            }
            var backlogs = Read((db, services) => new (string, QueueBacklog)[]
            {
                Backlog(db, services.GetRequiredService<WebhookInboxProcessor>()),
                Backlog(db, services.GetRequiredService<RemoteDeletionProcessor>()),
                Backlog(db, services.GetRequiredService<WebhookSender>()),
            });
            _reading = (Stopwatch.GetTimestamp(), backlogs);
            return backlogs;
        }
    }

    private static (string, QueueBacklog) Backlog<TItem>(SkyLightDb db, LeasedQueue<TItem> queue) where TItem : class, IQueueItem =>
        (queue.Name, queue.ReadBacklog(db));

    /// <summary>A reading that fails (the database is away) shows no figures rather than failing the whole scrape.</summary>
    private List<T> Read<T>(Func<SkyLightDb, IServiceProvider, IEnumerable<T>> read)
    {
        try
        {
            using var scope = _scopes.CreateScope();
            return read(scope.ServiceProvider.GetRequiredService<SkyLightDb>(), scope.ServiceProvider).ToList();
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException or TimeoutException)
        {
            _log.LogWarning(e, "The database gauges could not be read; this scrape shows none");
            return [];
        }
    }
}
