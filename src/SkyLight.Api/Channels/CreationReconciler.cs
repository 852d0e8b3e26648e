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
        // a younger intent still under way may own an account in an older one's window: those wait until it settled
        var due = intents.Where(c => c.StartedAt < settled).Select(intent => (Intent: intent, Window: Window(intent)))
            .Where(d => !intents.Any(other => other.Provider == d.Intent.Provider && other.StartedAt >= settled && other.StartedAt - ClockSkew <= d.Window.To))
            .ToList();
        if (due.Count == 0)
        {
            return 0;
        }
        var candidates = due.ToDictionary(d => d.Intent.Id, d => accounts
            .Where(a => a.Type == d.Intent.Provider && CreatedAt(a) is { } created && created >= d.Window.From && created <= d.Window.To)
            .Select(a => a.Id).ToList());

        // Taking an intent deletes its row, as recording its account does: of a slow connect and the reconciler only one
        // wins. What was recorded is read after that, so an account whose connect won is known here.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var taken = new List<long>();
        foreach (var (intent, _) in due)
        {
            if (await db.AccountCreations.Where(c => c.Id == intent.Id).ExecuteDeleteAsync(ct) == 1)
            {
                taken.Add(intent.Id);
            }
        }
        var suspects = taken.SelectMany(id => candidates[id]).ToHashSet(StringComparer.Ordinal);
        suspects.ExceptWith(await RecordedAmongAsync(db, suspects, ct));
        foreach (var orphan in suspects)
        {
            if (unipileOptions.Value.DeleteUnrecordedAccounts)
            {
                log.LogWarning("Unipile account {AccountId} was created by an interrupted connect and never recorded; deleting it", orphan);
                scope.ServiceProvider.GetRequiredService<ChannelLifecycle>().QueueDeletion(orphan, now);
            }
            else
            {
                log.LogWarning("Unipile account {AccountId} looks created by an interrupted connect and is not recorded; it is kept because " +
                    "Unipile:DeleteUnrecordedAccounts is off. Delete it at Unipile if this service is the only user of the DSN", orphan);
            }
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return taken.Count;
    }

    /// <summary>When Unipile could have created the intent's account, by Unipile's clock.</summary>
    private (DateTimeOffset From, DateTimeOffset To) Window(AccountCreation intent) =>
        (intent.StartedAt - ClockSkew, intent.StartedAt + CreationWindow + ClockSkew);

    private static DateTimeOffset? CreatedAt(UnipileAccount account) =>
        DateTimeOffset.TryParse(account.CreatedAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var created)
            ? created
            : null;

    /// <summary>Which of the accounts this service knows: its channels', its attempts' (any state) or queued for deletion.</summary>
    private static async Task<List<string>> RecordedAmongAsync(SkyLightDb db, HashSet<string> accounts, CancellationToken ct)
    {
        if (accounts.Count == 0)
        {
            return [];
        }
        var ids = accounts.ToList();
        var channels = await db.Channels.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(c => ids.Contains(c.UnipileAccountId!))
            .Select(c => c.UnipileAccountId!).ToListAsync(ct);
        var attempts = await db.ConnectAttempts.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(a => ids.Contains(a.UnipileAccountId))
            .Select(a => a.UnipileAccountId).ToListAsync(ct);
        var deletions = await db.RemoteDeletions.Where(d => ids.Contains(d.UnipileAccountId)).Select(d => d.UnipileAccountId).ToListAsync(ct);
        return [.. channels, .. attempts, .. deletions];
    }
}
