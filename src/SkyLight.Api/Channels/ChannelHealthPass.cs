using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>
/// Re-reads every channel's account from Unipile every <see cref="ChannelsOptions.HealthInterval"/>, a few at a
/// time, so a session that died without a webhook (or whose webhook was lost) shows as it really is.
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
            accounts = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter])
                .Where(c => c.UnipileAccountId != null && c.SyncStatus != SyncStatuses.CreationFail)
                .Select(c => c.UnipileAccountId!).ToListAsync(ct);
        }

        await Parallel.ForEachAsync(accounts, new ParallelOptions { MaxDegreeOfParallelism = Options.HealthConcurrency, CancellationToken = ct },
            async (accountId, token) =>
            {
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
