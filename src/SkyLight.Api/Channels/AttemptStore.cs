using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Channels;

/// <summary>
/// Saves a new connect attempt in place of the pending one, so that at most one is pending per workspace and
/// type (the database's unique index has the last word), and forgets Unipile accounts nobody will track.
/// Shared by the QR and the Instagram connect flows.
/// </summary>
internal sealed class AttemptStore(SkyLightDb db, CurrentWorkspace workspace, RemoteDeletions deletions, TimeProvider time, IOptions<ChannelsOptions> options)
{
    public Task<ConnectAttempt?> PendingAsync(string type, CancellationToken ct) =>
        db.ConnectAttempts.SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, ct);

    /// <summary>
    /// Ends <paramref name="pending"/> (its never-connected account is deleted) and saves the new attempt, in one
    /// transaction. A <see cref="DbUpdateException"/> means a concurrent connect committed first.
    /// </summary>
    private async Task<ConnectAttempt> SaveAsync(string type, Channel? channel, ConnectAttempt? pending, string accountId,
        bool isReconnect, string? qrCode, string? checkpointType, CancellationToken ct)
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
            CheckpointType = checkpointType,
            IsReconnect = isReconnect,
            StartedAt = now,
            ExpiresAt = now + options.Value.AttemptLifetime,
        }).Entity;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        deletions.Wake();
        return attempt;
    }

    /// <summary>
    /// Called once Unipile holds the new account, so it ignores the request's cancellation: the account is
    /// recorded, or forgotten. Returns the saved attempt (Won), or, when another request changed the channel first,
    /// the winner's pending attempt for the loser to show, or null when the channel got connected meanwhile.
    /// Any other change in between (a disconnect) is a <see cref="ConcurrentChangeException"/>.
    /// </summary>
    public async Task<(ConnectAttempt? Attempt, bool Won)> SaveOrYieldAsync(string type, Channel? channel, ConnectAttempt? pending,
        string accountId, bool isReconnect, string? qrCode, string? checkpointType)
    {
        try
        {
            return (await SaveAsync(type, channel, pending, accountId, isReconnect, qrCode, checkpointType, CancellationToken.None), true);
        }
        catch (DbUpdateException)
        {
            await ForgetAccountAsync(accountId, isReconnect, CancellationToken.None);
            db.ChangeTracker.Clear();
            var winner = await db.ConnectAttempts.AsNoTracking()
                .SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, CancellationToken.None);
            if (winner is not null || await db.Channels.AnyAsync(c => c.Type == type && c.IsConnected, CancellationToken.None))
            {
                return (winner, false);
            }
            throw new ConcurrentChangeException();
        }
    }

    /// <summary>An account this service will not track must not stay at Unipile; a reconnected one is the channel's own.</summary>
    public async Task ForgetAccountAsync(string accountId, bool isReconnect, CancellationToken ct)
    {
        if (isReconnect)
        {
            return;
        }
        db.ChangeTracker.Clear();
        deletions.Enqueue(accountId, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        deletions.Wake();
    }
}
