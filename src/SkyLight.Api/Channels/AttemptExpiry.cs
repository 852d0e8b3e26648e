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
            await ExpireAsync(db, lifecycle, id, ChangeSource.Expiry, ct);
        }
        return expired.Count;
    }

    /// <summary>
    /// Ends the attempt as expired if it is still pending, and saves; after a lost race it reads the attempt again. Another
    /// ending that wins (a webhook, the job on another node) is fine: it ended either way. Status and the Instagram flow
    /// call it too, so a caller sees the failure the moment the attempt's time is up.
    /// </summary>
    public static async Task ExpireAsync(SkyLightDb db, ChannelLifecycle lifecycle, int attemptId, ChangeSource source, CancellationToken ct)
    {
        try
        {
            await db.SaveRetryingLostRacesAsync(Rounds, async () =>
            {
                var attempt = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Include(a => a.Channel)
                    .SingleOrDefaultAsync(a => a.Id == attemptId, ct);
                if (attempt is not { IsPending: true })
                {
                    return false;
                }
                var reason = attempt.ChannelType == ChannelTypes.Instagram ? StatusReason.CodeExpired : StatusReason.QrExpired;
                lifecycle.EndAttempt(attempt, attempt.Channel, AttemptEnd.Expired, reason, source);
                return true;
            }, ct);
        }
        catch (DbUpdateException e) when (SkyLightDb.LostRace(e))
        {
            db.ChangeTracker.Clear();   // busy channel: the job's next run (or the next status poll) tries again
        }
    }

    /// <summary>How often an expiry reads the attempt again after a concurrent change of its channel.</summary>
    private const int Rounds = 4;
}
