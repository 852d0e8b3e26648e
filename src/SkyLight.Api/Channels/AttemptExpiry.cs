using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>
/// Ends attempts nobody completed within their lifetime: CREATION_FAIL, and the never-connected Unipile
/// account is deleted. A failed reconnect leaves the channel and its account as they were.
/// </summary>
internal sealed class AttemptExpiry(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<AttemptExpiry> log) : BackgroundLoop(time, options, log)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var deletions = scope.ServiceProvider.GetRequiredService<RemoteDeletions>();
        var now = Time.GetUtcNow();
        var expired = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
            .Where(a => a.State == AttemptStates.Pending && a.ExpiresAt <= now).OrderBy(a => a.Id).Take(50).ToListAsync(ct);
        foreach (var attempt in expired)
        {
            var channel = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleAsync(c => c.Id == attempt.ChannelId, ct);
            Expire(attempt, channel, deletions, now);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                db.ChangeTracker.Clear();   // another node (or a webhook) ended it first
            }
        }
        deletions.Wake();
        return expired.Count;
    }

    /// <summary>Also called by status, so a poller sees the failure the moment the attempt's time is up.</summary>
    public static void Expire(ConnectAttempt attempt, Channel channel, RemoteDeletions deletions, DateTimeOffset now)
    {
        attempt.End(AttemptStates.Failed, now);
        attempt.QrCode = null;
        if (attempt.IsReconnect)
        {
            return;
        }
        deletions.Enqueue(attempt.UnipileAccountId, now);
        if (!channel.IsConnected)
        {
            channel.SyncStatus = SyncStatuses.CreationFail;   // last_synced_at stays: nothing came from Unipile
        }
    }
}
