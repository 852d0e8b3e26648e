using System.Diagnostics;
using System.Linq.Expressions;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Notifications;

/// <summary>
/// Makes webhook deliveries: a signed POST per attempt, any 2xx within <see cref="WebhooksOptions.Timeout"/> acknowledges;
/// anything else (a status, a timeout, a refused connection, a TLS failure, a redirect) is retried with doubling back-off and
/// jitter until <see cref="WebhooksOptions.RetryWindow"/> has passed since the first attempt, then marked failed. Every
/// attempt goes to the delivery log. A leased queue: one node makes each attempt, and a node that dies mid-delivery lets its
/// lease lapse, so another node delivers it again with the same delivery id (at least once).
/// </summary>
internal sealed class WebhookSender(IServiceScopeFactory scopes, IHttpClientFactory http, IOptions<WebhooksOptions> webhooks, TimeProvider time,
    IOptions<ChannelsOptions> options, ILogger<WebhookSender> log) : LeasedQueue<WebhookDelivery>(scopes, time, options, log)
{
    public const string HttpClientName = "SkyLight.Webhooks";

    /// <summary>How much of a receiver's answer is read and kept.</summary>
    public const int MaxResponseBodyChars = 1024;

    protected override int Batch => 100;

    protected override int Parallelism => webhooks.Value.Parallelism;

    /// <summary>A receiver may take its whole timeout: the others' deliveries must not wait for it.</summary>
    protected override bool RunsInBackground => true;

    /// <summary>Grouped by endpoint: one endpoint that hangs, with a backlog, holds a few slots and never all of them.</summary>
    protected override Expression<Func<WebhookDelivery, DueItem>> Listed => d => new DueItem(d.Id, d.EndpointId);

    protected override int MaxInFlightPerGroup => webhooks.Value.ParallelismPerEndpoint;

    protected override IQueryable<WebhookDelivery> OutsideGroups(IQueryable<WebhookDelivery> items, List<long> groups) =>
        items.Where(d => !groups.Contains(d.EndpointId));

    /// <summary>The retry window ends a delivery, not a count; this only bounds a delivery whose bookkeeping keeps failing.</summary>
    protected override int MaxAttempts => 10_000;

    public override string Name => "webhook_deliveries";

    protected override Expression<Func<WebhookDelivery, DateTimeOffset>> QueuedAt => d => d.RoundStartedAt;

    protected override Expression<Func<WebhookDelivery, bool>> IsOpen => d => d.SetAsideAt == null && d.DeliveredAt == null && d.Endpoint!.IsActive;

    protected override TimeSpan Lease => Options.LeaseDuration + webhooks.Value.Timeout;

    protected override async Task<WorkOutcome> HandleAsync(WebhookDelivery item, IServiceProvider services, CancellationToken ct)
    {
        var endpoint = await services.GetRequiredService<SkyLightDb>().WebhookEndpoints.IgnoreQueryFilters([SkyLightDb.TenantFilter]).AsNoTracking()
            .SingleOrDefaultAsync(e => e.Id == item.EndpointId, ct);
        if (endpoint is null)
        {
            return WorkOutcome.Done;   // deleted since it was claimed, and its deliveries with it
        }
        var now = Time.GetUtcNow();
        var body = WebhookPayloads.Body(item, now.ToUnixTimeSeconds());
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-Skylight-Event", item.EventType);
        request.Headers.Add("X-Skylight-Delivery", item.DeliveryId.ToString("D"));
        request.Headers.Add("X-Skylight-Timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Skylight-Signature", WebhookSecrets.Signature(body, services.GetRequiredService<WebhookSecrets>().SigningSecrets(endpoint, now)));

        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(webhooks.Value.Timeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        int? status = null;
        string? answer = null;
        string? error;
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            status = (int)response.StatusCode;
            // the status acknowledges; the body is only kept for the log, as far as it arrives in time
            answer = await StartOfAsync(response.Content, linked.Token);
            error = response.IsSuccessStatusCode ? null : $"the receiver answered {status}";
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            error = $"timeout: no answer within {webhooks.Value.Timeout.TotalSeconds:0.###} s";
        }
        catch (HttpRequestException e)
        {
            error = Describe(e);
        }
        item.Try = new WebhookDeliveryAttempt
        {
            DeliveryRowId = item.Id, AttemptedAt = now, DurationMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            ResponseStatus = status, ResponseBody = Storable(answer), Error = Storable(error),
        };
        return error is null ? WorkOutcome.Done : WorkOutcome.Retry(error);
    }

    /// <summary>Records the attempt, then the delivery's new state and its endpoint's health, in one transaction.</summary>
    protected override async Task<Settled> SettleAsync(SkyLightDb db, WebhookDelivery item, WorkOutcome outcome, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        var attempt = item.Try ?? new WebhookDeliveryAttempt
        {
            DeliveryRowId = item.Id, AttemptedAt = now, Error = outcome is WorkOutcome.RetryOutcome r ? r.Error : "the delivery could not be made",
        };
        var id = item.Id;
        var attempts = item.Attempts + 1;
        var status = attempt.ResponseStatus;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var endpoints = db.WebhookEndpoints.IgnoreQueryFilters([SkyLightDb.TenantFilter]).Where(e => e.Id == item.EndpointId);
        if (outcome is WorkOutcome.DoneOutcome)
        {
            if (await Items(db).Where(d => d.Id == id).ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Attempts, attempts).SetProperty(d => d.DeliveredAt, now).SetProperty(d => d.LastResponseStatus, status)
                    .SetProperty(d => d.LastError, (string?)null).SetProperty(d => d.LeasedUntil, (DateTimeOffset?)null), ct) == 0)
            {
                return Settled.Gone;   // its endpoint was deleted meanwhile, and the delivery with it: nothing to log
            }
            await LogAttemptAsync(db, attempt, ct);
            await endpoints.Where(e => e.FailingSince != null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, (DateTimeOffset?)null), ct);
            await transaction.CommitAsync(ct);
            return Settled.Done;
        }

        var error = Truncate(attempt.Error ?? "failed");
        var next = now + Backoff(attempts);
        var failed = next > item.RoundStartedAt + webhooks.Value.RetryWindow;
        DateTimeOffset? failedAt = failed ? now : null;
        if (await Items(db).Where(d => d.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Attempts, attempts).SetProperty(d => d.LastResponseStatus, status).SetProperty(d => d.LastError, error)
                .SetProperty(d => d.LeasedUntil, (DateTimeOffset?)null).SetProperty(d => d.NextAttemptAt, failed ? item.NextAttemptAt : next)
                .SetProperty(d => d.SetAsideAt, failedAt), ct) == 0)
        {
            return Settled.Gone;
        }
        await LogAttemptAsync(db, attempt, ct);
        await endpoints.Where(e => e.FailingSince == null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, now), ct);
        var disableAfter = webhooks.Value.DisableAfter;
        var disabled = disableAfter > TimeSpan.Zero && await endpoints.Where(e => e.IsActive && e.FailingSince <= now - disableAfter)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.IsActive, false).SetProperty(e => e.UpdatedAt, now)
                .SetProperty(e => e.DisabledReason, $"Every delivery failed for {Describe(disableAfter)}; the last error: {error}"), ct) == 1;
        await transaction.CommitAsync(ct);
        if (disabled)
        {
            Log.LogWarning("Webhook endpoint {EndpointId} of workspace {WorkspaceId} was switched off: every delivery failed for {Period}; the last error: {Error}",
                item.EndpointId, item.WorkspaceId, Describe(disableAfter), error);
        }
        else if (failed)
        {
            Log.LogWarning("Webhook delivery {DeliveryId} to endpoint {EndpointId} failed for good after {Attempts} attempts: {Error}",
                item.DeliveryId, item.EndpointId, attempts, error);
        }
        return failed ? Settled.SetAside : Settled.Retry;
    }

    private static async Task LogAttemptAsync(SkyLightDb db, WebhookDeliveryAttempt attempt, CancellationToken ct)
    {
        db.WebhookDeliveryAttempts.Add(attempt);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The wait before the next attempt: the base delay doubled per failed attempt, capped, with ± jitter.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var settings = webhooks.Value;
        var delay = settings.RetryBaseDelay * Math.Pow(2, Math.Min(attempts - 1, 30));
        delay = delay < settings.RetryMaxDelay ? delay : settings.RetryMaxDelay;
        return delay * (1 + (settings.RetryJitter * ((Random.Shared.NextDouble() * 2) - 1)));
    }

    /// <summary>
    /// The start of the receiver's answer, read no further than <see cref="MaxResponseBodyChars"/> bytes, and no longer than
    /// the attempt's time: what arrived by then.
    /// </summary>
    private static async Task<string?> StartOfAsync(HttpContent content, CancellationToken ct)
    {
        var buffer = new byte[MaxResponseBodyChars];
        var read = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(ct);
            while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n && n > 0)
            {
                read += n;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            // a body that stalls or breaks off after the status: keep what came
        }
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>Text as a database keeps it: PostgreSQL refuses NUL in text, and a receiver may answer anything.</summary>
    private static string? Storable(string? text) => text?.Replace('\0', '\uFFFD');

    private static string Describe(HttpRequestException e) => e switch
    {
        { InnerException: PrivateTargetException refused } => $"refused: {refused.Message}",
        { InnerException: AuthenticationException tls } => $"TLS failure: {tls.Message}",
        { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => "connection refused",
        { InnerException: SocketException socket } => $"network error: {socket.SocketErrorCode}",
        _ => $"network error: {e.HttpRequestError}",
    };

    private static string Describe(TimeSpan period) =>
        period.TotalDays >= 1 ? $"{period.TotalDays:0.#} days" : period.TotalHours >= 1 ? $"{period.TotalHours:0.#} hours" : $"{period.TotalSeconds:0.#} seconds";
}
