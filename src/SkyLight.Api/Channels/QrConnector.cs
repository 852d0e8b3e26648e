using System.Net;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Starts a QR login for WhatsApp or Telegram. A pending fresh attempt is cancelled (its Unipile account
/// deleted); a channel that lost its session is reconnected, keeping its Unipile account; a concurrent
/// connect that loses the race gets the winner's attempt and leaves no account behind.
/// </summary>
internal sealed class QrConnector(SkyLightDb db, AttemptStore attempts, UnipileClient unipile, TimeProvider time, ILogger<QrConnector> log)
{
    /// <summary>The attempt the caller should show; null when the channel is already connected.</summary>
    public async Task<ConnectAttempt?> ConnectAsync(string type, CancellationToken ct)
    {
        var channel = await db.Channels.SingleOrDefaultAsync(c => c.Type == type, ct);
        if (channel is { IsConnected: true })
        {
            return null;
        }
        var pending = await attempts.PendingAsync(type, ct);
        if (pending is { IsReconnect: true } && time.GetUtcNow() < pending.ExpiresAt)
        {
            return pending;   // Unipile refuses a second intent on one account (425) until this one ends
        }

        var reconnectId = channel is { UnipileAccountId: { } id } && SyncStatuses.LostSession(channel.SyncStatus) ? id : null;
        ConnectOutcome outcome;
        try
        {
            outcome = await StartLoginAsync(type, reconnectId, ct);
        }
        catch (UnipileException e) when (e.StatusCode == (HttpStatusCode)425)
        {
            // a concurrent reconnect of this account got its intent first: show that one
            var current = await db.ConnectAttempts.AsNoTracking().SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, ct);
            if (current is null)
            {
                throw;
            }
            return current;
        }
        var isReconnect = reconnectId is not null && outcome.AccountId == reconnectId;
        if (outcome is not { Result: ConnectResult.CheckpointRequired, Checkpoint.Qrcode: { Length: > 0 } qrCode })
        {
            await attempts.ForgetAccountAsync(outcome.AccountId, isReconnect, ct);
            throw new UnipileException(null, UnipileException.UnexpectedResponse, "Unipile did not answer with a QR code", outcome.Result.ToString());
        }

        // from here on Unipile holds an account: record it or forget it, whatever happens to the request
        try
        {
            return await attempts.SaveAsync(type, channel, pending, outcome.AccountId, isReconnect, qrCode, checkpointType: null, CancellationToken.None);
        }
        catch (DbUpdateException)
        {
            // another request changed this channel first: a concurrent connect, a scan that completed, a disconnect
            await attempts.ForgetAccountAsync(outcome.AccountId, isReconnect, CancellationToken.None);
            return await attempts.WinnerAsync(type, CancellationToken.None)
                ?? (await attempts.IsConnectedAsync(type, CancellationToken.None) ? null : throw new ConcurrentChangeException());
        }
    }

    private async Task<ConnectOutcome> StartLoginAsync(string type, string? reconnectId, CancellationToken ct)
    {
        var request = new ConnectRequest(ChannelTypes.Provider(type));
        if (reconnectId is null)
        {
            return await unipile.ConnectAsync(request, ct);
        }
        try
        {
            return await unipile.ReconnectAsync(reconnectId, request, ct);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            log.LogInformation("Unipile no longer has account {AccountId}; connecting afresh", reconnectId);
            return await unipile.ConnectAsync(request, ct);
        }
    }
}
