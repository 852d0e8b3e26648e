using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Unipile.Emulator;

/// <summary>One attempt to deliver one webhook, as GET /_emulator/webhook-deliveries shows it.</summary>
internal sealed record DeliveryAttempt(
    string DeliveryId, string WebhookId, string RequestUrl, string AccountId, string Message, int Attempt,
    int? ResponseStatus, string? Error, DateTimeOffset At);

/// <summary>
/// Sends <c>account_status</c> webhooks like Unipile: the documented payload, only the headers registered
/// for the webhook (no JSON content type unless registered), and 5 retries with growing delays unless the
/// receiver answers exactly 200. Webhooks of different accounts go out in parallel (a burst arrives as a
/// burst); one account's first attempts keep their order; retries wait on their own.
/// </summary>
internal sealed class WebhookDispatcher(
    EmulatorState state, IHttpClientFactory http, TimeProvider time, IOptions<EmulatorOptions> options,
    ILogger<WebhookDispatcher> log) : BackgroundService
{
    private const int Lanes = 16;
    private static readonly TimeSpan ReceiverTimeout = TimeSpan.FromSeconds(30);
    private readonly Channel<Delivery>[] _lanes = [.. Enumerable.Range(0, Lanes).Select(_ => Channel.CreateUnbounded<Delivery>())];
    private readonly ConcurrentQueue<DeliveryAttempt> _attempts = new();

    public IReadOnlyCollection<DeliveryAttempt> Attempts => _attempts;

    public void ClearAttempts() => _attempts.Clear();

    /// <summary>Queues the account_status event for every enabled webhook that covers the account.</summary>
    public void AccountStatus(EmulatedAccount account, string message)
    {
        List<RegisteredWebhook> targets;
        int generation;
        lock (state.Sync)
        {
            if (!state.DeliverWebhooks)
            {
                return;
            }
            generation = state.Generation;
            targets = state.Webhooks.FindAll(w => w.Enabled && w.Source == "account_status" &&
                (w.AccountIds.Count == 0 || w.AccountIds.Contains(account.Id)));
        }

        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            AccountStatus = new { account_id = account.Id, account_type = account.Provider, message },
        });
        foreach (var webhook in targets)
        {
            // one lane per account (by hash): its webhooks stay in order, other accounts' go alongside
            var lane = (int)((uint)StringComparer.Ordinal.GetHashCode(account.Id) % Lanes);
            _lanes[lane].Writer.TryWrite(new Delivery(Wire.NewId(), webhook, account.Id, message, payload, generation));
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_lanes.Select(lane => DeliverAsync(lane.Reader, stoppingToken)));

    private async Task DeliverAsync(ChannelReader<Delivery> lane, CancellationToken stoppingToken)
    {
        await foreach (var delivery in lane.ReadAllAsync(stoppingToken))
        {
            if (!await AttemptAsync(delivery, 1, stoppingToken))
            {
                _ = RetryAsync(delivery, stoppingToken);
            }
        }
    }

    private async Task RetryAsync(Delivery delivery, CancellationToken ct)
    {
        var delays = options.Value.RetryDelays;
        for (var retry = 0; retry < delays.Count; retry++)
        {
            try
            {
                await Task.Delay(delays[retry], time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (await AttemptAsync(delivery, retry + 2, ct))
            {
                return;
            }
        }
    }

    private async Task<bool> AttemptAsync(Delivery delivery, int attempt, CancellationToken ct)
    {
        lock (state.Sync)
        {
            // switched off, deleted or reset since it was queued: Unipile would not send it either
            if (!state.DeliverWebhooks || state.Generation != delivery.Generation || !state.Webhooks.Exists(w => w.Id == delivery.Webhook.Id))
            {
                return true;
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Webhook.RequestUrl)
        {
            Content = new ByteArrayContent(delivery.Payload),
        };
        foreach (var (key, value) in delivery.Webhook.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(key, value))
            {
                request.Content.Headers.TryAddWithoutValidation(key, value);
            }
        }

        int? status = null;
        string? error = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ReceiverTimeout);
            using var response = await http.CreateClient(nameof(WebhookDispatcher)).SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            error = e.Message;
        }

        _attempts.Enqueue(new DeliveryAttempt(delivery.Id, delivery.Webhook.Id, delivery.Webhook.RequestUrl,
            delivery.AccountId, delivery.Message, attempt, status, error, time.GetUtcNow()));
        log.LogInformation("Webhook {WebhookId} {Message} for {AccountId}: attempt {Attempt} got {Status} {Error}",
            delivery.Webhook.Id, delivery.Message, delivery.AccountId, attempt, status, error);
        return status == 200;   // Unipile's rule: anything but exactly 200 is a failure
    }

    private sealed record Delivery(string Id, RegisteredWebhook Webhook, string AccountId, string Message, byte[] Payload, int Generation);
}
