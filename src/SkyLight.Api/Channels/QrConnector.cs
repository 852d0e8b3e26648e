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
internal sealed class QrConnector(SkyLightDb db, AttemptStore attempts, UnipileLogins logins, TimeProvider time)
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
        NewAccount account;
        try
        {
            (outcome, account) = await logins.ReconnectOrConnectAsync(type, reconnectId, new ConnectRequest(ChannelTypes.Provider(type)), ct);
        }
        catch (UnipileException e) when (e.StatusCode == (HttpStatusCode)425)
        {
            // a concurrent reconnect of this account got its intent first: show that one
            var current = await attempts.PendingAsync(type, ct);
            if (current is null)
            {
                throw;
            }
            return current;
        }
        if (outcome is not { Result: ConnectResult.CheckpointRequired, Checkpoint.Qrcode: { Length: > 0 } qrCode })
        {
            await attempts.ForgetAccountAsync(account, CancellationToken.None);
            throw new UnipileException(null, UnipileException.UnexpectedResponse, "Unipile did not answer with a QR code", outcome.Result.ToString());
        }

        return (await attempts.SaveOrYieldAsync(type, channel, pending, account, qrCode, checkpointType: null)).Attempt;
    }
}
