using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels.Events;
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
        var lifecycle = scope.ServiceProvider.GetRequiredService<ChannelLifecycle>();
        var now = Time.GetUtcNow();
        var expired = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
            .Where(a => a.State == AttemptStates.Pending && a.ExpiresAt <= now).OrderBy(a => a.Id).Select(a => a.Id).Take(50).ToListAsync(ct);
        foreach (var id in expired)
        {
            // loaded one by one: a lost race clears the tracker, which must not detach the rest of the batch
            var attempt = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Include(a => a.Channel).SingleAsync(a => a.Id == id, ct);
            await ExpireAsync(db, lifecycle, attempt, ChangeSource.Expiry, ct);
        }
        return expired.Count;
    }

    /// <summary>
    /// Ends the attempt as expired if it is still pending, and saves. Losing the race to another ending (a webhook, the
    /// job on another node) is fine: it ended either way. The attempt's Channel must be loaded. Status and the
    /// Instagram flow call it too, so a caller sees the failure the moment the attempt's time is up.
    /// </summary>
    public static async Task ExpireAsync(SkyLightDb db, ChannelLifecycle lifecycle, ConnectAttempt attempt, ChangeSource source, CancellationToken ct)
    {
        if (!attempt.IsPending)
        {
            return;
        }
        var reason = attempt.QrCode is null && attempt.ChannelType == ChannelTypes.Instagram ? StatusReason.CodeExpired : StatusReason.QrExpired;
        lifecycle.EndAttempt(attempt, attempt.Channel, AttemptEnd.Expired, reason, source);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (SkyLightDb.LostRace(e))
        {
            db.ChangeTracker.Clear();
        }
    }
}
