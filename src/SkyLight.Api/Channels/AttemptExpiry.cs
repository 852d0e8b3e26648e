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
            .Where(a => a.State == AttemptStates.Pending && a.ExpiresAt <= now).OrderBy(a => a.Id).Select(a => a.Id).Take(50).ToListAsync(ct);
        foreach (var id in expired)
        {
            // loaded one by one: a lost race clears the tracker, which must not detach the rest of the batch
            var attempt = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Include(a => a.Channel).SingleAsync(a => a.Id == id, ct);
            await ExpireAsync(db, attempt, deletions, now, ct);
        }
        return expired.Count;
    }

    /// <summary>
    /// Ends the attempt if it is still pending and saves. Losing the race to another ending (a webhook, the job
    /// on another node) is fine: it ended either way. The attempt's Channel must be loaded. Status and the
    /// Instagram flow call it too, so a caller sees the failure the moment the attempt's time is up.
    /// </summary>
    public static async Task ExpireAsync(SkyLightDb db, ConnectAttempt attempt, RemoteDeletions deletions, DateTimeOffset now, CancellationToken ct)
    {
        if (!attempt.IsPending)
        {
            return;
        }
        Expire(attempt, attempt.Channel, deletions, now);
        try
        {
            await db.SaveChangesAsync(ct);
            deletions.Wake();
        }
        catch (DbUpdateException e) when (SkyLightDb.LostRace(e))
        {
            db.ChangeTracker.Clear();
        }
    }

    private static void Expire(ConnectAttempt attempt, Channel channel, RemoteDeletions deletions, DateTimeOffset now)
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
