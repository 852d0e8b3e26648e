using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Starts a QR login for WhatsApp or Telegram. A pending fresh attempt is cancelled (its Unipile account
/// deleted); a channel that lost its session is reconnected, keeping its Unipile account; a concurrent
/// connect that loses the race gets the winner's attempt and leaves no account behind.
/// </summary>
internal sealed class QrConnector(
    SkyLightDb db, CurrentWorkspace workspace, UnipileClient unipile, RemoteDeletions deletions, TimeProvider time,
    IOptions<ChannelsOptions> options, ILogger<QrConnector> log)
{
    /// <summary>The attempt the caller should show; null when the channel is already connected.</summary>
    public async Task<ConnectAttempt?> ConnectAsync(string type, CancellationToken ct)
    {
        var channel = await db.Channels.SingleOrDefaultAsync(c => c.Type == type, ct);
        if (channel is { IsConnected: true })
        {
            return null;
        }
        var pending = await db.ConnectAttempts.SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, ct);
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
            await ForgetAccountAsync(outcome.AccountId, isReconnect, ct);
            throw new UnipileException(null, UnipileException.UnexpectedResponse, "Unipile did not answer with a QR code", outcome.Result.ToString());
        }

        try
        {
            return await SaveAttemptAsync(type, channel, pending, outcome.AccountId, qrCode, isReconnect, ct);
        }
        catch (DbUpdateException)
        {
            // another connect for this workspace and type committed first (the unique indexes said so)
            db.ChangeTracker.Clear();
            await ForgetAccountAsync(outcome.AccountId, isReconnect, ct);
            return await db.ConnectAttempts.AsNoTracking().SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, ct)
                ?? throw new InvalidOperationException("A concurrent connect won but left no pending attempt.");
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

    private async Task<ConnectAttempt> SaveAttemptAsync(
        string type, Channel? channel, ConnectAttempt? pending, string accountId, string qrCode, bool isReconnect, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (pending is not null)
        {
            // ended first, in its own statement: the new attempt takes its place in the one-pending index
            pending.End(pending.IsReconnect ? AttemptStates.Failed : AttemptStates.Cancelled, now);
            pending.QrCode = null;
            if (!pending.IsReconnect)
            {
                deletions.Enqueue(pending.UnipileAccountId, now);
            }
            await db.SaveChangesAsync(ct);
        }

        channel ??= db.Channels.Add(new Channel { WorkspaceId = workspace.Id, Type = type, CreatedAt = now }).Entity;
        if (!isReconnect)
        {
            channel.SyncStatus = SyncStatuses.Connecting;
        }
        var attempt = db.ConnectAttempts.Add(new ConnectAttempt
        {
            WorkspaceId = workspace.Id,
            Channel = channel,
            ChannelType = type,
            UnipileAccountId = accountId,
            QrCode = qrCode,
            IsReconnect = isReconnect,
            StartedAt = now,
            ExpiresAt = now + options.Value.AttemptLifetime,
        }).Entity;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        deletions.Wake();
        return attempt;
    }

    /// <summary>An account this service will not track must not stay at Unipile; a reconnected one is the channel's own.</summary>
    private async Task ForgetAccountAsync(string accountId, bool isReconnect, CancellationToken ct)
    {
        if (isReconnect)
        {
            return;
        }
        deletions.Enqueue(accountId, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        deletions.Wake();
    }
}
