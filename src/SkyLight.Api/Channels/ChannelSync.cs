using System.Net;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Reads what Unipile knows about an account and hands it to <see cref="ChannelLifecycle"/>. Webhook messages are
/// hints; where it can, it reads the account itself, so duplicated or reordered webhooks converge on Unipile's
/// current truth instead of replaying history.
/// </summary>
internal sealed class ChannelSync(SkyLightDb db, UnipileClient unipile, ChannelLifecycle lifecycle, TimeProvider time, ILogger<ChannelSync> log)
{
    /// <summary>How often a sync re-reads the channel after another writer changed it first.</summary>
    private const int Rounds = 8;

    /// <summary>
    /// Applies what Unipile knows about the account, with the <paramref name="hint"/> of the webhook or login answer
    /// that brought the news. The <paramref name="source"/> decides what happens when Unipile cannot be read: see
    /// <see cref="ChangeSource"/>. An account that belongs to no channel is ignored.
    /// </summary>
    public async Task SyncAccountAsync(string accountId, ChangeSource source, UnipileHint hint, CancellationToken ct)
    {
        UnipileReport? report = null;
        await db.SaveRetryingLostRacesAsync(Rounds, async () =>
        {
            var attempt = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
                .Where(a => a.UnipileAccountId == accountId).OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
            var pending = attempt is { IsPending: true } ? attempt : null;
            var channel = pending is not null
                ? await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleOrDefaultAsync(c => c.Id == pending.ChannelId, ct)
                : await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleOrDefaultAsync(c => c.UnipileAccountId == accountId, ct);
            if (channel is null)
            {
                log.LogDebug("Unipile account {AccountId} belongs to no channel; ignored", accountId);
                return false;
            }
            // read once: a retry after a concurrent change applies the same answer to the newer state
            report ??= await ReadAccountAsync(accountId, source, hint, ct);
            if (report is null)
            {
                return false;   // Unipile could not be read and this source does not insist: nothing changes
            }
            lifecycle.ApplyUnipile(channel, pending, report, source);
            return true;
        }, ct);
    }

    /// <summary>Unipile's account, or gone (404); null when Unipile cannot be read and the source lets that pass.</summary>
    private async Task<UnipileReport?> ReadAccountAsync(string accountId, ChangeSource source, UnipileHint hint, CancellationToken ct)
    {
        var readAt = time.GetUtcNow();
        try
        {
            return new UnipileReport(await unipile.GetAccountAsync(accountId, ct), false, hint, readAt);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return new UnipileReport(null, true, hint, readAt);
        }
        catch (UnipileException e) when (source is ChangeSource.StatusPoll or ChangeSource.HealthPass)
        {
            log.LogInformation("Could not read Unipile account {AccountId} ({Type}); the channel stays as it is", accountId, e.Type);
            return null;
        }
        catch (UnipileException e) when (source == ChangeSource.LoginAnswer)
        {
            // Unipile itself just answered the login: its answer stands until the account can be read
            log.LogInformation("Could not read Unipile account {AccountId} ({Type}) after its login; using the login answer", accountId, e.Type);
            return new UnipileReport(null, false, hint, readAt);
        }
    }
}
