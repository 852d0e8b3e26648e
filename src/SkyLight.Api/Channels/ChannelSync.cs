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
    /// <summary>
    /// Applies what Unipile knows about the account; <c>message</c> is a webhook's, if any. Refresh passes
    /// <c>failOnUnipileError</c> to see Unipile's failure; webhooks and polls fall back to the message.
    /// </summary>
    public async Task SyncAccountAsync(string accountId, string? message, bool failOnUnipileError, CancellationToken ct)
    {
        try
        {
            await SyncOnceAsync(accountId, message, failOnUnipileError, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // another node changed the attempt meanwhile: apply Unipile's view to what is there now
            db.ChangeTracker.Clear();
            await SyncOnceAsync(accountId, message, failOnUnipileError, ct);
        }
    }

    private async Task SyncOnceAsync(string accountId, string? message, bool failOnUnipileError, CancellationToken ct)
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

        var (account, gone) = message == "DELETED" ? (null, true) : await ReadAccountAsync(accountId, failOnUnipileError, ct);
        var pending = attempt is { IsPending: true } ? attempt : null;
        Apply(channel, pending, account, gone, message);
        await db.SaveChangesAsync(ct);
        deletions.Wake();
    }

    private async Task<(UnipileAccount? Account, bool Gone)> ReadAccountAsync(string accountId, bool failOnUnipileError, CancellationToken ct)
    {
        try
        {
            return (await unipile.GetAccountAsync(accountId, ct), false);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, true);
        }
        catch (UnipileException e) when (!failOnUnipileError)
        {
            log.LogWarning("Could not read Unipile account {AccountId} ({Type}); using the webhook's message", accountId, e.Type);
            return (null, false);
        }
    }

    /// <summary>
    /// The status table. <c>CREATION_SUCCESS</c>/<c>RECONNECTED</c> connect (CONNECTING until OK); OK and
    /// SYNC_SUCCESS connect; CONNECTING keeps is_connected; CREDENTIALS, ERROR, STOPPED disconnect; an account
    /// gone from Unipile is ERROR, or CREATION_FAIL for an attempt that never connected.
    /// </summary>
    private void Apply(Channel channel, ConnectAttempt? pending, UnipileAccount? account, bool gone, string? message)
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

        var source = account?.Status ?? message;
        // CREATION_SUCCESS/RECONNECTED completes an attempt; a late copy must not revive a session Unipile says is lost
        if (message is "CREATION_SUCCESS" or "RECONNECTED" && (pending is not null || account is null) && !SyncStatuses.LostSession(account?.Status ?? ""))
        {
            Connected(channel, pending, account, source == SyncStatuses.Ok ? SyncStatuses.Ok : SyncStatuses.Connecting, now);
            return;
        }
        switch (source)
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
                SetState(channel, false, source, now);
                break;
            case "PERMISSIONS":
                SetState(channel, false, SyncStatuses.Error, now);
                break;
            default:
                log.LogWarning("Unipile status {Status} for channel {ChannelId} is not one we know; ignored", source, channel.Id);
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
