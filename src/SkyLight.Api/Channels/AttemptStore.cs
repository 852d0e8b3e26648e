using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Saves a new connect attempt in place of the pending one, so that at most one is pending per workspace and
/// type (the database's unique index has the last word), and forgets Unipile accounts nobody will track.
/// Shared by the QR and the Instagram connect flows.
/// </summary>
internal sealed class AttemptStore(SkyLightDb db, CurrentWorkspace workspace, ChannelLifecycle lifecycle, TimeProvider time, IOptions<ChannelsOptions> options)
{
    /// <summary>How often a save reads the channel again after a concurrent change, before it gives up.</summary>
    private const int Rounds = 4;

    public Task<ConnectAttempt?> PendingAsync(string type, CancellationToken ct) =>
        db.ConnectAttempts.Include(a => a.Channel).SingleOrDefaultAsync(a => a.ChannelType == type && a.State == AttemptStates.Pending, ct);

    /// <summary>
    /// Ends <paramref name="pending"/> (its never-connected account is deleted), saves the new attempt and
    /// settles the creation intent, in one transaction. A <see cref="DbUpdateException"/> means a concurrent
    /// change committed first.
    /// </summary>
    private async Task<ConnectAttempt> SaveAsync(string type, Channel? channel, ConnectAttempt? pending, NewAccount account,
        string? qrCode, string? checkpointType, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (channel is not null)
        {
            // the channel row first, as a disconnect takes it: two writers that lock in one order cannot deadlock
            channel.Version++;
            await db.SaveChangesAsync(ct);
        }
        if (pending is not null)
        {
            // ended first, in its own statement: the new attempt takes its place in the one-pending index
            lifecycle.EndAttempt(pending, pending.Channel, AttemptEnd.Replaced, Events.StatusReason.ReplacedByNewAttempt, Events.ChangeSource.User);
            await db.SaveChangesAsync(ct);
        }

        channel ??= lifecycle.NewChannel(workspace.Id, type);
        var attempt = lifecycle.StartAttempt(channel, account, qrCode, checkpointType, options.Value.AttemptLifetime);
        await db.SaveChangesAsync(ct);
        if (!await SettleIntentAsync(account, ct))
        {
            throw new IntentTakenOverException();   // rolled back: the reconciler may already have queued this account's deletion
        }
        await transaction.CommitAsync(ct);
        return attempt;
    }

    /// <summary>
    /// Called once Unipile holds the account, so it ignores the request's cancellation: the account is recorded,
    /// or forgotten. Returns the saved attempt (Won); or, when a concurrent connect saved its own attempt first,
    /// the winner's attempt for the loser to show; or null when the channel got connected meanwhile. An attempt
    /// that ended meanwhile (expired, disconnected) is simply not replaced: the new one is saved in its place.
    /// </summary>
    public async Task<(ConnectAttempt? Attempt, bool Won)> SaveOrYieldAsync(string type, Channel? channel, ConnectAttempt? pending,
        NewAccount account, string? qrCode, string? checkpointType)
    {
        var replacing = pending?.Id;
        for (var round = 1; ; round++)
        {
            try
            {
                return (await SaveAsync(type, channel, pending, account, qrCode, checkpointType, CancellationToken.None), true);
            }
            catch (IntentTakenOverException)
            {
                // this login took so long that its create counted as interrupted: the account is being deleted
                await ForgetAccountAsync(account, CancellationToken.None);
                throw new UnipileException(null, UnipileException.Timeout, "Unipile answered too late to be recorded", null);
            }
            catch (Exception e) when (e is not DbUpdateException and not OperationCanceledException)
            {
                // the save failed for good (the database refused it): the account is not recorded, so it must not live on
                await ForgetAccountAsync(account, CancellationToken.None);
                throw;
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
                channel = await db.Channels.SingleOrDefaultAsync(c => c.Type == type, CancellationToken.None);
                pending = await PendingAsync(type, CancellationToken.None);
                if (channel is { IsConnected: true } || (pending is not null && pending.Id != replacing))
                {
                    await ForgetAccountAsync(account, CancellationToken.None);
                    return (pending, false);
                }
                if (round == Rounds || (account.IsReconnect && channel?.UnipileAccountId != account.AccountId))
                {
                    // a reconnect whose channel was disconnected meanwhile: its account is queued for deletion already
                    await ForgetAccountAsync(account, CancellationToken.None);
                    throw new ConcurrentChangeException();
                }
                // the attempt we replace ended, or the channel went away: save ours in the channel as it is now
            }
        }
    }

    /// <summary>An account this service will not track must not stay at Unipile; a reconnected one is the channel's own.</summary>
    public async Task ForgetAccountAsync(NewAccount account, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!account.IsReconnect)
        {
            lifecycle.QueueDeletion(account.AccountId, time.GetUtcNow());
            await db.SaveChangesAsync(ct);
        }
        await SettleIntentAsync(account, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// The account is now recorded or queued for deletion: its creation intent has nothing left to reconcile. False when
    /// the intent was gone: the reconciler took it over (the two delete the same row, so only one of them can).
    /// </summary>
    private async Task<bool> SettleIntentAsync(NewAccount account, CancellationToken ct) =>
        account.CreationId is not { } id || await db.AccountCreations.Where(c => c.Id == id).ExecuteDeleteAsync(ct) == 1;

    private sealed class IntentTakenOverException() : Exception("The creation intent was reconciled before the account was recorded.");
}

/// <summary>An account Unipile answered a login with: a reconnect of the channel's own, or one it created under an intent.</summary>
internal sealed record NewAccount(string AccountId, bool IsReconnect, long? CreationId);
