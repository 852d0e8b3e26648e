using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Channels;

/// <summary>A channel as the status endpoint shows it: with whether its login completed or is still in progress.</summary>
internal sealed record ChannelStatusView(Channel Channel, bool Completed, bool InProgress);

/// <summary>
/// Serves status from <see cref="ChannelReadModel"/>. While a login is pending it lets the lifecycle end it when its time
/// is up, or has <see cref="StatusPoller"/> ask Unipile, so a lost webhook never leaves anyone polling forever; then it
/// reads again what that decided. Only that path touches the database: the request's services are resolved there, so
/// a status of a settled channel builds no database context at all.
/// </summary>
internal sealed class ChannelStatusReader(ChannelReadModel model, CurrentWorkspace workspace, StatusPoller poller, TimeProvider time,
    Observability.SkyLightMetrics metrics, IServiceProvider requestServices)
{
    /// <summary>Null when the workspace has no such channel, or the account is neither the channel's nor one of its attempts.</summary>
    public async Task<ChannelStatusView?> ReadAsync(string type, string? accountId, CancellationToken ct)
    {
        if (accountId is not null && !Unipile.UnipileIds.IsWellFormed(accountId))
        {
            return null;
        }
        var (snapshot, fromMemory) = await model.GetAsync(requestServices, workspace.Id, type, ct);
        var channel = snapshot.Channel;
        var attempt = await AttemptAsync(snapshot, type, accountId, ct);
        if (channel is null || (accountId is not null && attempt is null && channel.UnipileAccountId != accountId))
        {
            return null;
        }

        // one read of a status, counted once: from memory only if it touched neither the database nor Unipile
        metrics.StatusRead(fromMemory && attempt is not { IsPending: true });
        if (attempt is { IsPending: true })
        {
            if (time.GetUtcNow() >= attempt.ExpiresAt)
            {
                await AttemptExpiry.ExpireAsync(requestServices.GetRequiredService<SkyLightDb>(), requestServices.GetRequiredService<ChannelLifecycle>(),
                    attempt.Id, ChangeSource.StatusPoll, ct);
            }
            else
            {
                await poller.PollIfDueAsync(attempt.UnipileAccountId, ct);
            }
            // what the expiry or the poll decided (their commits dropped the snapshot); a concurrent disconnect may have
            // removed both meanwhile, and a newer attempt means this one was replaced
            (snapshot, _) = await model.GetAsync(requestServices, workspace.Id, type, ct);
            if (snapshot.Channel is null)
            {
                return null;
            }
            channel = snapshot.Channel;
            var pendingAccount = attempt.UnipileAccountId;
            attempt = snapshot.LatestAttempt?.Id == attempt.Id ? snapshot.LatestAttempt : null;
            if (attempt is not { IsPending: true })
            {
                poller.Forget(pendingAccount);
            }
        }

        var completed = channel.IsConnected && (accountId is null || channel.UnipileAccountId == accountId);
        // read one after the other, the two can straddle a completion: a connected channel has no login in progress
        return new ChannelStatusView(channel, completed, !completed && attempt is { IsPending: true });
    }

    /// <summary>
    /// The pending attempt, or the latest attempt for the account asked about: the snapshot's, unless the account is an
    /// older attempt's (rare: someone polls a QR that was replaced), which only the database still knows.
    /// </summary>
    private async ValueTask<ConnectAttempt?> AttemptAsync(ChannelSnapshot snapshot, string type, string? accountId, CancellationToken ct)
    {
        if (snapshot.LatestAttempt is not { } latest)
        {
            return null;
        }
        if (accountId is null)
        {
            return latest.IsPending ? latest : null;
        }
        if (latest.UnipileAccountId == accountId)
        {
            return latest;
        }
        return await requestServices.GetRequiredService<SkyLightDb>().ConnectAttempts.AsNoTracking()
            .Where(a => a.ChannelType == type && a.UnipileAccountId == accountId).OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
    }
}
