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
/// <remarks>
/// One reading serves all the gauges of a scrape, and any scrape within <see cref="Reuse"/> of it. A scrape waits at most
/// <see cref="Patience"/> for a new reading; when the database is slower than that (a lock, an outage) it shows the last
/// reading, or no database gauges at all, and the reading goes on in the background: the scrape's other series never
/// wait for the database.
/// </remarks>
internal sealed class DatabaseGauges
{
    private static readonly TimeSpan Reuse = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private Reading? _last;
    private Task<Reading?>? _reading;
    private long _patientUntil;
    private bool _failing;

    /// <summary>What one reading found, and when (the service's clock: a test moves it past <see cref="Reuse"/>).</summary>
    private sealed record Reading(DateTimeOffset TakenAt, List<(string Type, string SyncStatus, int Count)> Channels,
        List<(string Queue, QueueBacklog Backlog)> Queues);

    public DatabaseGauges(SkyLightMetrics metrics, IServiceScopeFactory scopes, TimeProvider time, ILogger<DatabaseGauges> log)
    {
        (_scopes, _time, _log) = (scopes, time, log);
        var meter = metrics.Meter;
        meter.CreateObservableGauge("skylight.channels", () => Current()?.Channels.Select(c => new Measurement<long>(c.Count,
            new KeyValuePair<string, object?>("channel.type", c.Type), new("sync_status", c.SyncStatus))) ?? [],
            "{channel}", "Channels by channel type and sync_status");
        meter.CreateObservableGauge("skylight.queue.pending", () => Each(b => b.Pending), "{item}",
            "Open items of a queue (unipile_webhooks, remote_deletions, webhook_deliveries): not done and not set aside");
        meter.CreateObservableGauge("skylight.queue.oldest_age", () => Each(b => b.OldestQueuedAt is { } at ? Math.Max(0, (_time.GetUtcNow() - at).TotalSeconds) : 0),
            "s", "How long the oldest open item of a queue has waited (0 when none waits)");
        meter.CreateObservableGauge("skylight.queue.set_aside", () => Each(b => b.SetAside), "{item}",
            "Items a queue gave up on and keeps for an operator to inspect");
    }

    private IEnumerable<Measurement<T>> Each<T>(Func<QueueBacklog, T> figure) where T : struct =>
        Current()?.Queues.Select(q => new Measurement<T>(figure(q.Backlog), new KeyValuePair<string, object?>("queue", q.Queue))) ?? [];

    /// <summary>
    /// The reading for this scrape: the last one if recent, else a new one if it comes in time, else the last one. The
    /// patience is the reading's, not each gauge's: the four gauges of a scrape wait for a slow reading once, together.
    /// </summary>
    private Reading? Current()
    {
        Task<Reading?> reading;
        long patientUntil;
        lock (_gate)
        {
            if (_last is { } last && _time.GetUtcNow() - last.TakenAt < Reuse)
            {
                return last;
            }
            if (_reading is null)
            {
                _reading = Task.Run(ReadAsync);
                _patientUntil = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);   // real time: it bounds a real wait
            }
            (reading, patientUntil) = (_reading, _patientUntil);
        }
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), patientUntil);
        return left > TimeSpan.Zero && reading.Wait(left) ? reading.Result ?? _last : _last;
    }

    private async Task<Reading?> ReadAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            await using var scope = _scopes.CreateAsyncScope();
            var services = scope.ServiceProvider;
            var db = services.GetRequiredService<SkyLightDb>();
            var channels = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
                .GroupBy(c => new { c.Type, c.SyncStatus }).Select(g => new { g.Key.Type, g.Key.SyncStatus, Count = g.Count() }).ToListAsync(timeout.Token);
            List<(string, QueueBacklog)> queues =
            [
                await BacklogAsync(db, services.GetRequiredService<WebhookInboxProcessor>(), timeout.Token),
                await BacklogAsync(db, services.GetRequiredService<RemoteDeletionProcessor>(), timeout.Token),
                await BacklogAsync(db, services.GetRequiredService<WebhookSender>(), timeout.Token),
            ];
            var reading = new Reading(_time.GetUtcNow(), [.. channels.Select(c => (c.Type, c.SyncStatus, c.Count))], queues);
            Settle(reading, null);
            return reading;
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException or OperationCanceledException or TimeoutException)
        {
            Settle(null, e);
            return null;
        }
    }

    private static async Task<(string, QueueBacklog)> BacklogAsync<TItem>(SkyLightDb db, LeasedQueue<TItem> queue, CancellationToken ct)
        where TItem : class, IQueueItem => (queue.Name, await queue.ReadBacklogAsync(db, ct));

    /// <summary>Keeps a good reading; a failed one is logged once per outage, not at every scrape.</summary>
    private void Settle(Reading? reading, Exception? failure)
    {
        lock (_gate)
        {
            _reading = null;
            if (reading is not null)
            {
                _last = reading;
                if (_failing)
                {
                    _log.LogInformation("The database gauges can be read again");
                }
                _failing = false;
                return;
            }
            if (!_failing)
            {
                _log.LogWarning(failure, "The database gauges could not be read; scrapes show the last reading until they can");
            }
            _failing = true;
        }
    }
}
