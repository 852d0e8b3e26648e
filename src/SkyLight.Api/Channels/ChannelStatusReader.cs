using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;

namespace SkyLight.Api.Channels;

/// <summary>A channel as the status endpoint shows it: with whether its login completed or is still in progress.</summary>
internal sealed record ChannelStatusView(Channel Channel, bool Completed, bool InProgress);

/// <summary>
/// Reads a channel and its attempt for the status endpoint. While a login is pending it lets the lifecycle end it
/// when its time is up, or has <see cref="StatusPoller"/> ask Unipile, so a lost webhook never leaves anyone polling
/// forever; then it reads again what that decided.
/// </summary>
internal sealed class ChannelStatusReader(SkyLightDb db, ChannelLifecycle lifecycle, StatusPoller poller, TimeProvider time)
{
    /// <summary>Names the status's first read in SQL, for traces and for the test that holds a status between its two reads.</summary>
    public const string FirstReadTag = "status: first read";

    /// <summary>Null when the workspace has no such channel, or the account is neither the channel's nor one of its attempts.</summary>
    public async Task<ChannelStatusView?> ReadAsync(string type, string? accountId, CancellationToken ct)
    {
        if (accountId is not null && !Unipile.UnipileIds.IsWellFormed(accountId))
        {
            return null;
        }
        // the attempt first, then the channel: read the other way round, the two could straddle a completion and show
        // a completed attempt on a channel that is not connected yet
        var attempt = await AttemptAsync(type, accountId, ct);
        var channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == type, ct);
        if (channel is null || (accountId is not null && attempt is null && channel.UnipileAccountId != accountId))
        {
            return null;
        }

        if (attempt is { IsPending: true })
        {
            if (time.GetUtcNow() >= attempt.ExpiresAt)
            {
                await AttemptExpiry.ExpireAsync(db, lifecycle, attempt.Id, ChangeSource.StatusPoll, ct);
            }
            else
            {
                await poller.PollIfDueAsync(attempt.UnipileAccountId, ct);
            }
            // what the expiry or the poll decided; a concurrent disconnect may have removed both meanwhile
            var pendingAccount = attempt.UnipileAccountId;
            attempt = await db.ConnectAttempts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == attempt.Id, ct);
            channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channel.Id, ct);
            if (channel is null)
            {
                return null;
            }
            if (attempt is not { IsPending: true })
            {
                poller.Forget(pendingAccount);
            }
        }

        var completed = channel.IsConnected && (accountId is null || channel.UnipileAccountId == accountId);
        // read one after the other, the two can straddle a completion: a connected channel has no login in progress
        return new ChannelStatusView(channel, completed, !completed && attempt is { IsPending: true });
    }

    /// <summary>The pending attempt, or the latest attempt for the account asked about.</summary>
    private Task<ConnectAttempt?> AttemptAsync(string type, string? accountId, CancellationToken ct) =>
        db.ConnectAttempts.AsNoTracking().TagWith(FirstReadTag)
            .Where(a => a.ChannelType == type && (accountId == null ? a.State == AttemptStates.Pending : a.UnipileAccountId == accountId))
            .OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
}
