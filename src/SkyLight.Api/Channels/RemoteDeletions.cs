using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>Queues Unipile accounts for deletion inside the caller's unit of work.</summary>
internal sealed class RemoteDeletions(SkyLightDb db, RemoteDeletionProcessor processor)
{
    /// <summary>Added to the caller's DbContext: it is saved (or not) together with what made the account unneeded.</summary>
    public void Enqueue(string unipileAccountId, DateTimeOffset now) =>
        db.RemoteDeletions.Add(new RemoteDeletion { UnipileAccountId = unipileAccountId, RequestedAt = now, NextAttemptAt = now });

    /// <summary>Call after saving: the processor deletes at once instead of at its next tick.</summary>
    public void Wake() => processor.Wake();
}

/// <summary>Deletes queued Unipile accounts until Unipile confirms; 404 means someone already did.</summary>
internal sealed class RemoteDeletionProcessor(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<RemoteDeletionProcessor> log) : BackgroundLoop(time, options, log)
{
    private const int Batch = 20;

    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var unipile = scope.ServiceProvider.GetRequiredService<UnipileClient>();
        var now = Time.GetUtcNow();
        var due = await db.RemoteDeletions.Where(d => d.NextAttemptAt <= now && (d.LeasedUntil == null || d.LeasedUntil < now))
            .OrderBy(d => d.Id).Select(d => d.Id).Take(Batch).ToListAsync(ct);
        foreach (var id in due)
        {
            // claimed by one node only; a node that dies holding it lets the lease lapse
            now = Time.GetUtcNow();
            var leasedUntil = now + Options.LeaseDuration;
            if (await db.RemoteDeletions.Where(d => d.Id == id && (d.LeasedUntil == null || d.LeasedUntil < now))
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeasedUntil, leasedUntil), ct) == 0)
            {
                continue;
            }
            var deletion = await db.RemoteDeletions.SingleAsync(d => d.Id == id, ct);
            try
            {
                await unipile.DeleteAccountAsync(deletion.UnipileAccountId, ct);
                db.RemoteDeletions.Remove(deletion);
            }
            catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                db.RemoteDeletions.Remove(deletion);
            }
            catch (UnipileException e)
            {
                deletion.Attempts++;
                deletion.LastError = e.Type;
                deletion.NextAttemptAt = RetryAt(deletion.Attempts);
                deletion.LeasedUntil = null;
                log.LogWarning("Deleting Unipile account {AccountId} failed ({Type}); retry {Attempt} at {NextAttemptAt}",
                    deletion.UnipileAccountId, e.Type, deletion.Attempts, deletion.NextAttemptAt);
            }
            await db.SaveChangesAsync(ct);
        }
        return due.Count;
    }
}
