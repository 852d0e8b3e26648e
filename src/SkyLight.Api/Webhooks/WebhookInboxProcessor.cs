using System.Text.Json;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Hosting;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Webhooks;

/// <summary>
/// Applies stored webhooks through <see cref="ChannelSync"/>, several at once (a burst is a burst). An item that fails
/// (Unipile cannot be read, say) is retried with back-off; one that cannot be parsed, or fails
/// <see cref="ChannelsOptions.WebhookMaxAttempts"/> times, is set aside with its error for inspection.
/// </summary>
internal sealed class WebhookInboxProcessor(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<WebhookInboxProcessor> log) : LeasedQueue<WebhookInboxItem>(scopes, time, options, log)
{
    protected override int Parallelism => 8;

    protected override int MaxAttempts => Options.WebhookMaxAttempts;

    public override string Name => "unipile_webhooks";

    protected override System.Linq.Expressions.Expression<Func<WebhookInboxItem, DateTimeOffset>> QueuedAt => i => i.ReceivedAt;

    protected override async Task<WorkOutcome> HandleAsync(WebhookInboxItem item, IServiceProvider services, CancellationToken ct)
    {
        if (Parse(item.Body) is not { } status)
        {
            return WorkOutcome.SetAside("not an account_status payload");
        }
        await services.GetRequiredService<ChannelSync>().SyncAccountAsync(status.AccountId, ChangeSource.Webhook, UnipileReport.HintOf(status.Message), ct);
        return WorkOutcome.Done;
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
