using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// Purges channel events and ended connect attempts older than <see cref="ChannelsOptions.EventRetention"/>, once an
/// hour on one node (a job lease). Pending attempts are never purged: expiry ends them first.
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
        if (events + attempts > 0)
        {
            Log.LogInformation("Purged {Events} channel events and {Attempts} ended attempts older than {Cutoff}", events, attempts, cutoff);
        }
        return events + attempts;
    }
}
