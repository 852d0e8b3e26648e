using System.Text.Json;
using System.Text.Json.Serialization;

namespace SkyLight.Sdk;

/// <summary>The event types an endpoint can subscribe to (more may come).</summary>
public static class WebhookEvents
{
    /// <summary>Every channel event (and <see cref="Test"/>).</summary>
    public const string All = "*";

    /// <summary>A login attempt began (a QR code to scan, or an Instagram login).</summary>
    public const string ChannelConnectStarted = "channel.connect_started";

    /// <summary>Instagram asked for a verification code.</summary>
    public const string ChannelCheckpointRequired = "channel.checkpoint_required";

    /// <summary>A login completed: the channel is connected.</summary>
    public const string ChannelConnected = "channel.connected";

    /// <summary>A connected channel's status changed (logged out, paused, recovered, …).</summary>
    public const string ChannelStatusChanged = "channel.status_changed";

    /// <summary>A login attempt failed (wrong password, wrong code, replaced by a new attempt, …).</summary>
    public const string ChannelConnectFailed = "channel.connect_failed";

    /// <summary>A login attempt expired before it completed (QR or code not used in time).</summary>
    public const string ChannelConnectExpired = "channel.connect_expired";

    /// <summary>The channel was disconnected and deleted.</summary>
    public const string ChannelDisconnected = "channel.disconnected";

    /// <summary>The event <see cref="WebhooksClient.TestAsync"/> sends.</summary>
    public const string Test = "webhook.test";
}

/// <summary>Where the workspace's channel events are delivered.</summary>
/// <param name="Id">The endpoint's id.</param>
/// <param name="Name">Its name, for people.</param>
/// <param name="Url">Where each delivery is POSTed.</param>
/// <param name="Events">The event types it receives (<see cref="WebhookEvents"/>); <c>*</c> for all.</param>
/// <param name="IsActive">False once switched off, by the integrator or by the service after every delivery failed for a long time.</param>
/// <param name="DisabledReason">Why the service switched it off; null when active or switched off by the integrator.</param>
/// <param name="PreviousSecretExpiresAt">Until when the previous secret signs too, after a rotation with a grace period; null otherwise.</param>
/// <param name="CreatedAt">When it was created (UTC).</param>
/// <param name="UpdatedAt">When it last changed (UTC).</param>
public sealed record WebhookEndpoint(int Id, string Name, string Url, IReadOnlyList<string> Events, bool IsActive, string? DisabledReason,
    DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// The signing secret (<c>whsec_…</c>), only in the answers that make one (<see cref="WebhooksClient.CreateAsync"/>,
    /// <see cref="WebhooksClient.RotateSecretAsync"/>): it is never shown again, so keep it now.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }
}

/// <summary>One page of webhook endpoints.</summary>
/// <param name="Items">The endpoints on this page, newest first.</param>
/// <param name="CurrentPage">This page's number.</param>
/// <param name="LastPage">The last page's number.</param>
/// <param name="PerPage">Items per page.</param>
/// <param name="Total">Endpoints in all.</param>
public sealed record WebhookEndpointPage(IReadOnlyList<WebhookEndpoint> Items, int CurrentPage, int LastPage, int PerPage, int Total);

/// <summary>What to change on an endpoint: only the properties set are sent, and only those change.</summary>
public sealed class WebhookEndpointUpdate
{
    /// <summary>A new name.</summary>
    public string? Name { get; set; }

    /// <summary>A new URL.</summary>
    public string? Url { get; set; }

    /// <summary>The new list of event types (it replaces the old one).</summary>
    public IReadOnlyList<string>? Events { get; set; }

    /// <summary>False switches the endpoint off; true switches it on again and resumes its pending deliveries.</summary>
    public bool? IsActive { get; set; }
}

/// <summary>One event for one endpoint, in its delivery log. The delivery id is the same for every attempt and replay.</summary>
/// <param name="DeliveryId">The id the receiver gets in <c>X-Skylight-Delivery</c> and the body's <c>delivery_id</c>: drop duplicates by it.</param>
/// <param name="Event">The event type (<see cref="WebhookEvents"/>).</param>
/// <param name="EventId">The journal event delivered (<see cref="ChannelEvent.Id"/>); null for a test event.</param>
/// <param name="Status">pending, delivered or failed (its retry window ran out).</param>
/// <param name="Attempts">Attempts made so far.</param>
/// <param name="LastResponseStatus">The receiver's last HTTP status; null when it never answered.</param>
/// <param name="LastError">Why the last attempt failed; null after a success.</param>
/// <param name="NextAttemptAt">When the next attempt is due, while pending.</param>
/// <param name="DeliveredAt">When the receiver acknowledged it with a 2xx.</param>
/// <param name="CreatedAt">When the event was queued for this endpoint (UTC).</param>
public sealed record WebhookDelivery(Guid DeliveryId, string Event, long? EventId, string Status, int Attempts, int? LastResponseStatus, string? LastError,
    DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, DateTimeOffset CreatedAt)
{
    /// <summary>The <c>data</c> sent (see <see cref="WebhookEvent.Data"/>); only from <see cref="WebhooksClient.GetDeliveryAsync"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Data { get; init; }

    /// <summary>Every attempt, oldest first; only from <see cref="WebhooksClient.GetDeliveryAsync"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<WebhookAttempt>? AttemptLog { get; init; }
}

/// <summary>One attempt of a delivery.</summary>
/// <param name="AttemptedAt">When it was made (UTC).</param>
/// <param name="DurationMs">How long the receiver took.</param>
/// <param name="ResponseStatus">The receiver's HTTP status; null when there was no answer (timeout, refused, TLS).</param>
/// <param name="ResponseBody">The start of the receiver's answer (up to 1024 bytes).</param>
/// <param name="Error">Why it failed; null after a 2xx.</param>
public sealed record WebhookAttempt(DateTimeOffset AttemptedAt, int DurationMs, int? ResponseStatus, string? ResponseBody, string? Error);

/// <summary>One page of an endpoint's delivery log.</summary>
/// <param name="Items">The deliveries on this page, newest first.</param>
/// <param name="CurrentPage">This page's number.</param>
/// <param name="LastPage">The last page's number.</param>
/// <param name="PerPage">Items per page.</param>
/// <param name="Total">Deliveries in all (of the status asked for).</param>
public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDelivery> Items, int CurrentPage, int LastPage, int PerPage, int Total);
