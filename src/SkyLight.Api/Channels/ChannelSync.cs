using System.Net;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Brings a channel in line with what Unipile says about its account: the one place the status table of
/// the Channels API is applied. Webhook messages are hints; where it can, it reads the account itself, so
/// duplicated or reordered webhooks converge on Unipile's current truth instead of replaying history.
/// </summary>
internal sealed class ChannelSync(SkyLightDb db, UnipileClient unipile, RemoteDeletions deletions, TimeProvider time, ILogger<ChannelSync> log)
{
    /// <summary>How often a sync re-reads the channel after another writer changed it first.</summary>
    private const int Rounds = 8;

    /// <summary>
    /// Applies what Unipile knows about the account. <paramref name="message"/> is the webhook's or the login
    /// answer's, if any; the <paramref name="source"/> decides what happens when Unipile cannot be read: see
    /// <see cref="SyncSource"/>. An account that belongs to no channel is ignored.
    /// </summary>
    public async Task SyncAccountAsync(string accountId, SyncSource source, string? message, CancellationToken ct)
    {
        AccountReading? reading = null;
        for (var round = 1; ; round++)
        {
            var attempt = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter])
                .Where(a => a.UnipileAccountId == accountId).OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
            var channel = attempt is { IsPending: true }
                ? await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleOrDefaultAsync(c => c.Id == attempt.ChannelId, ct)
                : await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleOrDefaultAsync(c => c.UnipileAccountId == accountId, ct);
            if (channel is null || (attempt is not { IsPending: true } && channel.UnipileAccountId != accountId))
            {
                log.LogDebug("Unipile account {AccountId} belongs to no channel; ignored", accountId);
                return;
            }

            // read once: a retry after a concurrent change applies the same answer to the newer state
            reading ??= await ReadAccountAsync(accountId, source, ct);
            if (reading is null)
            {
                return;   // Unipile could not be read and this source does not insist: nothing changes
            }
            Apply(channel, attempt is { IsPending: true } ? attempt : null, reading.Account, reading.Gone, message, source);
            try
            {
                await db.SaveChangesAsync(ct);
                deletions.Wake();
                return;
            }
            catch (DbUpdateException e) when (round < Rounds && SkyLightDb.LostRace(e))
            {
                // another request or node changed the attempt or the channel meanwhile: apply Unipile's view to what is there now
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>Unipile's account, or gone (404); null when Unipile cannot be read and the source lets that pass.</summary>
    private async Task<AccountReading?> ReadAccountAsync(string accountId, SyncSource source, CancellationToken ct)
    {
        try
        {
            return new AccountReading(await unipile.GetAccountAsync(accountId, ct), false);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return new AccountReading(null, true);
        }
        catch (UnipileException e) when (source is SyncSource.StatusPoll or SyncSource.HealthPass)
        {
            log.LogInformation("Could not read Unipile account {AccountId} ({Type}); the channel stays as it is", accountId, e.Type);
            return null;
        }
        catch (UnipileException e) when (source == SyncSource.LoginAnswer)
        {
            // Unipile itself just answered the login: its answer stands until the account can be read
            log.LogInformation("Could not read Unipile account {AccountId} ({Type}) after its login; using the login answer", accountId, e.Type);
            return new AccountReading(null, false);
        }
    }

    private sealed record AccountReading(UnipileAccount? Account, bool Gone);

    /// <summary>
    /// The status table. <c>CREATION_SUCCESS</c>/<c>RECONNECTED</c> connect (CONNECTING until OK); OK and
    /// SYNC_SUCCESS connect; CONNECTING keeps is_connected; CREDENTIALS, ERROR, STOPPED disconnect; an account
    /// gone from Unipile is ERROR, or CREATION_FAIL for an attempt that never connected.
    /// </summary>
    private void Apply(Channel channel, ConnectAttempt? pending, UnipileAccount? account, bool gone, string? message, SyncSource source)
    {
        var now = time.GetUtcNow();
        if (gone)
        {
            if (pending is not null)
            {
                pending.End(AttemptStates.Failed, now);
                if (!pending.IsReconnect)
                {
                    SetState(channel, false, SyncStatuses.CreationFail, now);
                    return;
                }
            }
            SetState(channel, false, SyncStatuses.Error, now);
            return;
        }

        var status = account?.Status ?? message;   // no account: only a login answer gets this far
        // CREATION_SUCCESS/RECONNECTED completes an attempt; a late copy must not revive a session Unipile says is lost
        if (message is "CREATION_SUCCESS" or "RECONNECTED" && (pending is not null || account is null) && !SyncStatuses.LostSession(account?.Status ?? "") &&
            (source == SyncSource.LoginAnswer || LoggedIn(channel.Type, account)))
        {
            Connected(channel, pending, account, status == SyncStatuses.Ok ? SyncStatuses.Ok : SyncStatuses.Connecting, now);
            return;
        }
        switch (status)
        {
            case SyncStatuses.Ok:
            case SyncStatuses.SyncSuccess:
                Connected(channel, pending, account, message == SyncStatuses.SyncSuccess ? SyncStatuses.SyncSuccess : SyncStatuses.Ok, now);
                break;
            case SyncStatuses.Connecting:
                SetState(channel, channel.IsConnected, SyncStatuses.Connecting, now);
                break;
            case SyncStatuses.Credentials or SyncStatuses.Error or SyncStatuses.Stopped:
                // a pending reconnect still shows the lost session until the user scans: the attempt goes on
                SetState(channel, false, status, now);
                break;
            case "PERMISSIONS":
                SetState(channel, false, SyncStatuses.Error, now);
                break;
            default:
                log.LogWarning("Unipile status {Status} for channel {ChannelId} is not one we know; ignored", status, channel.Id);
                break;
        }
    }

    private void Connected(Channel channel, ConnectAttempt? pending, UnipileAccount? account, string syncStatus, DateTimeOffset now)
    {
        if (pending is not null)
        {
            pending.End(AttemptStates.Completed, now);
            pending.QrCode = null;
            if (channel.UnipileAccountId is { } previous && previous != pending.UnipileAccountId)
            {
                deletions.Enqueue(previous, now);   // a channel holds one Unipile account
            }
            channel.UnipileAccountId = pending.UnipileAccountId;
        }
        channel.Username = UsernameOf(channel.Type, account) ?? channel.Username;
        SetState(channel, true, syncStatus, now);
    }

    private static void SetState(Channel channel, bool connected, string syncStatus, DateTimeOffset now)
    {
        channel.IsConnected = connected;
        channel.SyncStatus = syncStatus;
        channel.LastSyncedAt = now;
    }

    /// <summary>
    /// Whether Unipile's account shows a login behind a CREATION_SUCCESS webhook: running, or still syncing but with
    /// the user it logged in (an unscanned QR has none), so a replayed or forged message cannot connect a QR nobody scanned.
    /// </summary>
    private static bool LoggedIn(string type, UnipileAccount? account) =>
        account?.Status is SyncStatuses.Ok or SyncStatuses.SyncSuccess || UsernameOf(type, account) is not null;

    /// <summary>WhatsApp: the phone number with a leading +. Telegram: the username, else the user id. Instagram: the username.</summary>
    private static string? UsernameOf(string type, UnipileAccount? account) => (type, account?.Im) switch
    {
        (ChannelTypes.WhatsApp, { PhoneNumber: { Length: > 0 } phone }) => phone.StartsWith('+') ? phone : "+" + phone,
        (ChannelTypes.Telegram, { Username: { Length: > 0 } username }) => username,
        (ChannelTypes.Telegram, { UserId: { Length: > 0 } userId }) => userId,
        (ChannelTypes.Instagram, { Username: { Length: > 0 } username }) => username,
        _ => null,
    };
}

/// <summary>Where a sync comes from, which decides what an unreadable Unipile means.</summary>
internal enum SyncSource
{
    /// <summary>A Unipile webhook: its message is a hint; when Unipile cannot be read, the inbox retries it later.</summary>
    Webhook,

    /// <summary>A status request polling a pending attempt: when Unipile cannot be read, nothing changes.</summary>
    StatusPoll,

    /// <summary>The refresh endpoint: Unipile's failure is the caller's answer (502/503/504).</summary>
    Refresh,

    /// <summary>The periodic health pass: when Unipile cannot be read, nothing changes.</summary>
    HealthPass,

    /// <summary>Unipile's own answer to a login (AccountCreated, AccountReconnected): trusted until the account can be read.</summary>
    LoginAnswer,
}
