using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Webhooks;

/// <summary>
/// Applies stored webhooks through <see cref="ChannelSync"/>. Woken by every webhook; a failure is retried
/// with back-off, and an item that cannot be understood is dropped with a warning.
/// </summary>
internal sealed class WebhookInboxProcessor(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<WebhookInboxProcessor> log) : BackgroundLoop(time, options, log)
{
    private const int Batch = 50;
    private const int MaxAttempts = 10;
    private const int Parallelism = 8;

    /// <summary>Claims and applies due webhooks, several at once (a burst is a burst): each in its own scope.</summary>
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<long> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var now = Time.GetUtcNow();
            due = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().WebhookInbox
                .Where(i => i.NextAttemptAt <= now && (i.LeasedUntil == null || i.LeasedUntil < now))
                .OrderBy(i => i.Id).Select(i => i.Id).Take(Batch).ToListAsync(ct);
        }
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (id, token) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                await ProcessAsync(id, scope.ServiceProvider.GetRequiredService<SkyLightDb>(), scope.ServiceProvider.GetRequiredService<ChannelSync>(), token);
            });
        return due.Count;
    }

    private async Task ProcessAsync(long id, SkyLightDb db, ChannelSync sync, CancellationToken ct)
    {
        // claimed by one node only; a node that dies holding it lets the lease lapse
        var now = Time.GetUtcNow();
        var leasedUntil = now + Options.LeaseDuration;
        if (await db.WebhookInbox.Where(i => i.Id == id && (i.LeasedUntil == null || i.LeasedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.LeasedUntil, leasedUntil), ct) == 0)
        {
            return;
        }
        var item = await db.WebhookInbox.SingleAsync(i => i.Id == id, ct);
        if (Parse(item.Body) is not { } status)
        {
            log.LogWarning("Webhook {ItemId} is not an account_status payload; dropped", item.Id);
            db.WebhookInbox.Remove(item);
            await db.SaveChangesAsync(ct);
            return;
        }
        try
        {
            await sync.SyncAccountAsync(status.AccountId, status.Message, failOnUnipileError: false, ct);
            db.WebhookInbox.Remove(item);
        }
        catch (Exception e) when (e is not OperationCanceledException && item.Attempts + 1 < MaxAttempts)
        {
            var attempts = item.Attempts + 1;
            db.ChangeTracker.Clear();   // the failed changes must not ride along with the retry bookkeeping
            item = await db.WebhookInbox.SingleAsync(i => i.Id == id, ct);
            item.Attempts = attempts;
            item.NextAttemptAt = RetryAt(item.Attempts);
            item.LeasedUntil = null;
            log.LogWarning(e, "Webhook {ItemId} for {AccountId} failed; retry {Attempt}", item.Id, status.AccountId, item.Attempts);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Webhook {ItemId} for {AccountId} failed {Attempts} times; dropped", item.Id, status.AccountId, item.Attempts + 1);
            db.ChangeTracker.Clear();
            db.WebhookInbox.Remove(await db.WebhookInbox.SingleAsync(i => i.Id == id, ct));
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary><c>{"AccountStatus": {"account_id", "account_type", "message"}}</c>; anything else is null.</summary>
    private static (string AccountId, string Message)? Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("AccountStatus", out var status) && status.ValueKind == JsonValueKind.Object &&
                status.TryGetProperty("account_id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } accountId &&
                status.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                ? (accountId, message.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
