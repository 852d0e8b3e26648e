using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// Purges channel events, ended connect attempts and finished webhook deliveries (with their attempt log) older than
/// <see cref="ChannelsOptions.EventRetention"/>, once an hour on one node (a job lease). Pending attempts and pending
/// deliveries are never purged.
/// </summary>
internal sealed class JournalRetention(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options, ILogger<JournalRetention> log)
    : BackgroundLoop(time, options, log)
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);

    protected override TimeSpan Interval => Every;

    protected override bool Drains => false;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var now = Time.GetUtcNow();
        if (!await db.TryClaimJobAsync(nameof(JournalRetention), now, now + Every * 0.9, ct))
        {
            return 0;
        }
        var cutoff = now - Options.EventRetention;
        var events = await db.ChannelEvents.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(e => e.OccurredAt < cutoff).ExecuteDeleteAsync(ct);
        var attempts = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
            .Where(a => a.State != AttemptStates.Pending && a.EndedAt != null && a.EndedAt < cutoff).ExecuteDeleteAsync(ct);
        var deliveries = await db.WebhookDeliveries.IgnoreQueryFilters([SkyLightDb.TenantFilter])
            .Where(d => d.CreatedAt < cutoff && (d.DeliveredAt != null || d.SetAsideAt != null)).ExecuteDeleteAsync(ct);
        var links = await db.ConnectLinks.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(l => l.ExpiresAt < cutoff).ExecuteDeleteAsync(ct);
        var keys = await Idempotency.IdempotencySetup.PurgeAsync(db, now, ct);   // idempotency keys past their own retention
        if (events + attempts + deliveries + links + keys > 0)
        {
            Log.LogInformation("Purged {Events} channel events, {Attempts} ended attempts, {Deliveries} finished webhook deliveries and {Links} " +
                "connect links older than {Cutoff}, and {Keys} expired idempotency keys", events, attempts, deliveries, links, cutoff, keys);
        }
        return events + attempts + deliveries + links + keys;
    }
}
