using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Settles <see cref="AccountCreation"/> intents that outlived their call: the create timed out, or the node died
/// between Unipile's answer and the commit. Unipile's account list is searched for accounts of the intent's
/// provider created while the call could have run that nothing here records; each one found is queued for
/// deletion when <see cref="UnipileOptions.DeleteUnrecordedAccounts"/> allows it, and only logged otherwise.
/// </summary>
internal sealed class CreationReconciler(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    IOptions<UnipileOptions> unipileOptions, ILogger<CreationReconciler> log) : BackgroundLoop(time, options, log)
{
    /// <summary>Unipile's clock and ours may differ this much.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long after an intent's start Unipile may still create its account: the call's timeout, and as long again
    /// for a server that finishes work its client stopped waiting for.
    /// </summary>
    private TimeSpan CreationWindow => unipileOptions.Value.RequestTimeout * 2;

    /// <summary>An intent younger than this may still have its call (and the commit after it) under way on some node.</summary>
    private TimeSpan Grace => CreationWindow + ClockSkew * 2;

    protected override bool Drains => false;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var now = Time.GetUtcNow();
        var settled = now - Grace;
        if (!await db.AccountCreations.AnyAsync(c => c.StartedAt < settled, ct) ||
            !await db.TryClaimJobAsync(nameof(CreationReconciler), now, now + Options.JobInterval, ct))
        {
            return 0;
        }
        var intents = await db.AccountCreations.AsNoTracking().OrderBy(c => c.StartedAt).ToListAsync(ct);
        var unipile = scope.ServiceProvider.GetRequiredService<UnipileClient>();
        var accounts = new List<UnipileAccount>();
        try
        {
            await foreach (var account in unipile.ListAllAccountsAsync(ct))
            {
                accounts.Add(account);
            }
        }
        catch (UnipileException e)
        {
            log.LogWarning("Listing Unipile accounts to reconcile {Count} interrupted creates failed ({Type}); trying again later", intents.Count, e.Type);
            return 0;
        }
        var recorded = await RecordedAccountsAsync(db, ct);
        var done = 0;
        foreach (var intent in intents.Where(c => c.StartedAt < settled))
        {
            var (from, to) = Window(intent);
            // a younger intent still under way may own an account in this window: wait until it has settled
            if (intents.Any(other => other.Id != intent.Id && other.Provider == intent.Provider && other.StartedAt >= settled && other.StartedAt - ClockSkew <= to))
            {
                continue;
            }
            foreach (var orphan in accounts.Where(a => a.Type == intent.Provider && !recorded.Contains(a.Id) && CreatedAt(a) is { } created && created >= from && created <= to))
            {
                recorded.Add(orphan.Id);
                if (unipileOptions.Value.DeleteUnrecordedAccounts)
                {
                    log.LogWarning("Unipile account {AccountId} was created by an interrupted connect and never recorded; deleting it", orphan.Id);
                    db.RemoteDeletions.Add(new RemoteDeletion { UnipileAccountId = orphan.Id, RequestedAt = now, NextAttemptAt = now });
                }
                else
                {
                    log.LogWarning("Unipile account {AccountId} looks created by an interrupted connect and is not recorded; it is kept because " +
                        "Unipile:DeleteUnrecordedAccounts is off. Delete it at Unipile if this service is the only user of the DSN", orphan.Id);
                }
            }
            await db.SaveChangesAsync(ct);   // the deletions first: a crash before the next line finds them recorded
            await db.AccountCreations.Where(c => c.Id == intent.Id).ExecuteDeleteAsync(ct);
            done++;
        }
        if (done > 0)
        {
            scope.ServiceProvider.GetRequiredService<RemoteDeletions>().Wake();
        }
        return done;
    }

    /// <summary>When Unipile could have created the intent's account, by Unipile's clock.</summary>
    private (DateTimeOffset From, DateTimeOffset To) Window(AccountCreation intent) =>
        (intent.StartedAt - ClockSkew, intent.StartedAt + CreationWindow + ClockSkew);

    private static DateTimeOffset? CreatedAt(UnipileAccount account) =>
        DateTimeOffset.TryParse(account.CreatedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var created)
            ? created
            : null;

    /// <summary>Every account this service knows: its channels', its attempts' (any state) and those queued for deletion.</summary>
    private static async Task<HashSet<string>> RecordedAccountsAsync(SkyLightDb db, CancellationToken ct)
    {
        var recorded = new HashSet<string>(StringComparer.Ordinal);
        recorded.UnionWith(await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(c => c.UnipileAccountId != null)
            .Select(c => c.UnipileAccountId!).ToListAsync(ct));
        recorded.UnionWith(await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Select(a => a.UnipileAccountId).ToListAsync(ct));
        recorded.UnionWith(await db.RemoteDeletions.Select(d => d.UnipileAccountId).ToListAsync(ct));
        return recorded;
    }
}
