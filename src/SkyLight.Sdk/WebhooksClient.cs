using System.Globalization;
using System.Runtime.CompilerServices;

namespace SkyLight.Sdk;

/// <summary>
/// Outgoing webhooks: endpoints that receive the workspace's channel events, their delivery log, replays, test events and
/// secret rotation. Check each delivery a receiver gets with <see cref="SkyLightWebhook.Verify"/>.
/// </summary>
public sealed class WebhooksClient
{
    private readonly ApiTransport _transport;

    internal WebhooksClient(ApiTransport transport) => _transport = transport;

    /// <summary>
    /// Registers an endpoint for the given event types (<see cref="WebhookEvents"/>). The answer's
    /// <see cref="WebhookEndpoint.Secret"/> is shown this once: keep it to verify deliveries. 422 on a bad name, URL or event type.
    /// </summary>
    public Task<WebhookEndpoint> CreateAsync(string name, string url, IEnumerable<string> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return _transport.DataAsync<WebhookEndpoint>(HttpMethod.Post, "api/v1/webhooks", new { name, url, events = events.ToArray() }, cancellationToken);
    }

    /// <summary>One page of the workspace's endpoints, newest first.</summary>
    public Task<WebhookEndpointPage> ListAsync(int page = 1, int perPage = 15, CancellationToken cancellationToken = default) =>
        _transport.PageAsync<WebhookEndpoint, WebhookEndpointPage>(string.Create(CultureInfo.InvariantCulture, $"api/v1/webhooks?page={page}&per_page={perPage}"),
            (items, current, last, size, total) => new WebhookEndpointPage(items, current, last, size, total), "a page of webhook endpoints", cancellationToken);

    /// <summary>Every endpoint of the workspace, page after page.</summary>
    public async IAsyncEnumerable<WebhookEndpoint> ListAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var page = 1; ; page++)
        {
            var endpoints = await ListAsync(page, 100, cancellationToken).ConfigureAwait(false);
            foreach (var endpoint in endpoints.Items)
            {
                yield return endpoint;
            }
            if (page >= endpoints.LastPage)
            {
                yield break;
            }
        }
    }

    /// <summary>One endpoint; 404 when it is not this workspace's.</summary>
    public Task<WebhookEndpoint> GetAsync(int id, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<WebhookEndpoint>(HttpMethod.Get, Path(id), null, cancellationToken);

    /// <summary>Changes what <paramref name="update"/> sets, and nothing else. Switching an endpoint on again resumes its pending deliveries.</summary>
    public Task<WebhookEndpoint> UpdateAsync(int id, WebhookEndpointUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var body = new Dictionary<string, object>();
        if (update.Name is { } name)
        {
            body["name"] = name;
        }
        if (update.Url is { } url)
        {
            body["url"] = url;
        }
        if (update.Events is { } events)
        {
            body["events"] = events;
        }
        if (update.IsActive is { } active)
        {
            body["is_active"] = active;
        }
        return _transport.DataAsync<WebhookEndpoint>(HttpMethod.Patch, Path(id), body, cancellationToken);
    }

    /// <summary>Deletes the endpoint and its delivery log; 404 when it is not this workspace's.</summary>
    public Task DeleteAsync(int id, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Delete, Path(id), null, cancellationToken);

    /// <summary>
    /// Sends a <c>webhook.test</c> event now. The answer is the pending delivery; read it again with
    /// <see cref="GetDeliveryAsync"/> to see the receiver's answer. 422 when the endpoint is switched off.
    /// </summary>
    public Task<WebhookDelivery> TestAsync(int id, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<WebhookDelivery>(HttpMethod.Post, $"{Path(id)}/test", null, cancellationToken);

    /// <summary>
    /// Makes a new signing secret (in <see cref="WebhookEndpoint.Secret"/>, shown this once). The previous one stops signing
    /// at once, or, given <paramref name="previousSecretGrace"/> (up to one day), signs next to the new one until then, so
    /// receivers can switch over without missing a delivery.
    /// </summary>
    public Task<WebhookEndpoint> RotateSecretAsync(int id, TimeSpan? previousSecretGrace = null, CancellationToken cancellationToken = default)
    {
        if (previousSecretGrace is { } grace)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(previousSecretGrace));
        }
        object? body = previousSecretGrace is { } seconds ? new { previous_secret_expires_in_seconds = (long)Math.Ceiling(seconds.TotalSeconds) } : null;
        return _transport.DataAsync<WebhookEndpoint>(HttpMethod.Post, $"{Path(id)}/rotate-secret", body, cancellationToken);
    }

    /// <summary>One page of an endpoint's deliveries, newest first, optionally of one status (pending, delivered or failed).</summary>
    public Task<WebhookDeliveryPage> ListDeliveriesAsync(int id, string? status = null, int page = 1, int perPage = 15,
        CancellationToken cancellationToken = default)
    {
        var query = string.Create(CultureInfo.InvariantCulture, $"{Path(id)}/deliveries?page={page}&per_page={perPage}") +
            (status is null ? "" : $"&status={Uri.EscapeDataString(status)}");
        return _transport.PageAsync<WebhookDelivery, WebhookDeliveryPage>(query,
            (items, current, last, size, total) => new WebhookDeliveryPage(items, current, last, size, total), "a page of webhook deliveries", cancellationToken);
    }

    /// <summary>One delivery with the data it sends (<see cref="WebhookDelivery.Data"/>) and every attempt (<see cref="WebhookDelivery.AttemptLog"/>).</summary>
    public Task<WebhookDelivery> GetDeliveryAsync(int id, Guid deliveryId, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<WebhookDelivery>(HttpMethod.Get, DeliveryPath(id, deliveryId), null, cancellationToken);

    /// <summary>
    /// Sends a delivery again now, with the same delivery id, whatever its status. 409 while an attempt is under way,
    /// 422 when the endpoint is switched off.
    /// </summary>
    public Task<WebhookDelivery> RedeliverAsync(int id, Guid deliveryId, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<WebhookDelivery>(HttpMethod.Post, $"{DeliveryPath(id, deliveryId)}/redeliver", null, cancellationToken);

    private static string Path(int id) => string.Create(CultureInfo.InvariantCulture, $"api/v1/webhooks/{id}");

    private static string DeliveryPath(int id, Guid deliveryId) => $"{Path(id)}/deliveries/{deliveryId:D}";
}
