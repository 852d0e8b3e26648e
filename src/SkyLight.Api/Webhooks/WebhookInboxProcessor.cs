using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Webhooks;

/// <summary>
/// Applies stored webhooks through <see cref="ChannelSync"/>. Woken by every webhook. An item that fails (Unipile
/// cannot be read, say) is retried with back-off; one that cannot be parsed, or fails
/// <see cref="ChannelsOptions.WebhookMaxAttempts"/> times, is set aside with its error for inspection. Each item
/// stands alone: one bad item never stops or delays the others.
/// </summary>
internal sealed class WebhookInboxProcessor(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<WebhookInboxProcessor> log) : BackgroundLoop(time, options, log)
{
    private const int Batch = 50;
    private const int Parallelism = 8;

    /// <summary>Claims and applies due webhooks, several at once (a burst is a burst): each in its own scope.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<long> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var now = Time.GetUtcNow();
            due = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().WebhookInbox
                .Where(i => i.SetAsideAt == null && i.NextAttemptAt <= now && (i.LeasedUntil == null || i.LeasedUntil < now))
                .OrderBy(i => i.Id).Select(i => i.Id).Take(Batch).ToListAsync(ct);
        }
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (id, token) =>
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await ProcessAsync(id, scope.ServiceProvider.GetRequiredService<SkyLightDb>(), scope.ServiceProvider.GetRequiredService<ChannelSync>(), token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // not even the bookkeeping worked (the database is away): the lease lapses and the item comes back
                    log.LogWarning(e, "Webhook {ItemId} could not be processed; it is retried once its lease lapses", id);
                }
            });
        return due.Count;
    }

    private async Task ProcessAsync(long id, SkyLightDb db, ChannelSync sync, CancellationToken ct)
    {
        // claimed by one node only; a node that dies holding it lets the lease lapse
        var now = Time.GetUtcNow();
        var leasedUntil = now + Options.LeaseDuration;
        if (await db.WebhookInbox.Where(i => i.Id == id && i.SetAsideAt == null && (i.LeasedUntil == null || i.LeasedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeasedUntil, leasedUntil), ct) == 0)
        {
            return;
        }
        var item = await db.WebhookInbox.SingleAsync(i => i.Id == id, ct);
        if (Parse(item.Body) is not { } status)
        {
            log.LogWarning("Webhook {ItemId} is not an account_status payload; set aside", item.Id);
            await FailAsync(db, id, "not an account_status payload", setAside: true, ct);
            return;
        }
        try
        {
            await sync.SyncAccountAsync(status.AccountId, SyncSource.Webhook, status.Message, ct);
            db.WebhookInbox.Remove(item);
            await db.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var attempts = item.Attempts + 1;
            var setAside = attempts >= Options.WebhookMaxAttempts;
            // Unipile's own words are safe to keep: status, type and title, never a secret
            var reason = e is UnipileException unipile ? $"Unipile: {unipile.Message}" : e.GetType().Name;
            log.LogWarning(e, "Webhook {ItemId} for {AccountId} failed (attempt {Attempt}); {Next}", item.Id, status.AccountId, attempts,
                setAside ? "set aside" : "retried later");
            await FailAsync(db, id, reason, setAside, ct);
        }
    }

    /// <summary>Counts a failed attempt: retried with back-off, or set aside for good.</summary>
    private async Task FailAsync(SkyLightDb db, long id, string reason, bool setAside, CancellationToken ct)
    {
        db.ChangeTracker.Clear();   // the failed changes must not ride along with the bookkeeping
        var item = await db.WebhookInbox.SingleAsync(i => i.Id == id, ct);
        item.Attempts++;
        item.LastError = reason.Length > 500 ? reason[..500] : reason;
        item.LeasedUntil = null;
        if (setAside)
        {
            item.SetAsideAt = Time.GetUtcNow();
        }
        else
        {
            item.NextAttemptAt = RetryAt(item.Attempts);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// <c>{"AccountStatus": {"account_id", "account_type", "message"}}</c>; anything else is null, including JSON
    /// that parses but holds text .NET cannot represent (a lone surrogate escape).
    /// </summary>
    private static (string AccountId, string Message)? Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("AccountStatus", out var status) && status.ValueKind == JsonValueKind.Object &&
                status.TryGetProperty("account_id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { } accountId && UnipileIds.IsWellFormed(accountId) &&
                status.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                ? (accountId, message.GetString()!)
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }
}
