using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>
/// Re-reads from Unipile every channel nobody read for a <see cref="ChannelsOptions.HealthInterval"/> (no webhook, poll or
/// refresh), a few at a time and at most <see cref="ChannelsOptions.HealthMaxRate"/> per second, longest unread first, so
/// a session that died without a webhook (or whose webhook was lost) shows as it really is, and a million channels cost
/// Unipile a steady, configured rate rather than a burst every interval.
/// </summary>
internal sealed class ChannelHealthPass(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<ChannelHealthPass> log) : BackgroundLoop(time, options, log)
{
    protected override TimeSpan Interval => Options.HealthInterval;

    /// <summary>At start every channel was just read by whoever used it; the first pass waits one interval.</summary>
    protected override bool RunsAtStart => false;

    protected override bool Drains => false;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<string> accounts;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
            var now = Time.GetUtcNow();
            // one node per interval runs the pass: the lease ends just before the next tick of any node
            if (!await db.TryClaimJobAsync(nameof(ChannelHealthPass), now, now + Options.HealthInterval * 0.9, ct))
            {
                return 0;
            }
            var unreadSince = now - Options.HealthInterval;
            var budget = (int)Math.Clamp(Options.HealthMaxRate * Options.HealthInterval.TotalSeconds * 0.9, 1, int.MaxValue);
            accounts = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter])
                .Where(c => c.UnipileAccountId != null && c.SyncStatus != SyncStatuses.CreationFail && (c.LastSyncedAt == null || c.LastSyncedAt <= unreadSince))
                .OrderBy(c => c.LastSyncedAt).Select(c => c.UnipileAccountId!).Take(budget).ToListAsync(ct);
        }

        var started = Time.GetUtcNow();
        await Parallel.ForEachAsync(accounts.Select((accountId, index) => (accountId, index)),
            new ParallelOptions { MaxDegreeOfParallelism = Options.HealthConcurrency, CancellationToken = ct },
            async (read, token) =>
            {
                var (accountId, index) = read;
                // paced: the n-th read starts no earlier than n / HealthMaxRate seconds into the pass
                var wait = started + TimeSpan.FromSeconds(index / Options.HealthMaxRate) - Time.GetUtcNow();
                if (wait >= TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, Time, token);
                }
                await using var scope = scopes.CreateAsyncScope();
                try
                {
                    await scope.ServiceProvider.GetRequiredService<ChannelSync>().SyncAccountAsync(accountId, Events.ChangeSource.HealthPass, UnipileHint.None, token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Health pass could not refresh Unipile account {AccountId}", accountId);
                }
            });
        return accounts.Count;
    }
}
