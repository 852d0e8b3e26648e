using SkyLight.Api.Hosting;

namespace SkyLight.Api.Notifications;

/// <summary>
/// One event to deliver to one endpoint, and its log: a row of the <see cref="WebhookSender"/> queue that stays after it
/// is delivered or failed, so the integrator can read what happened and ask for it again. The delivery id (a UUID)
/// stays the same for every attempt and every replay, so a receiver can drop duplicates.
/// </summary>
internal sealed class WebhookDelivery : IQueueItem
{
    public long Id { get; set; }
    public Guid DeliveryId { get; init; }
    public int WorkspaceId { get; init; }
    public int EndpointId { get; init; }
    public WebhookEndpoint? Endpoint { get; init; }
    public required string EventType { get; init; }

    /// <summary>The journal event delivered; null for a test event.</summary>
    public long? EventId { get; init; }

    /// <summary>The delivery's <c>data</c>, as JSON, fixed when the event was fanned out.</summary>
    public required string Data { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Attempts in the current round (since creation, a replay or re-enabling): they set the back-off.</summary>
    public int Attempts { get; set; }

    /// <summary>When the current round's first attempt was due: the retry window counts from here.</summary>
    public DateTimeOffset RoundStartedAt { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? LeasedUntil { get; set; }
    public string? LastError { get; set; }
    public int? LastResponseStatus { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }

    /// <summary>When it was marked failed: its retry window ran out. A replay opens it again.</summary>
    public DateTimeOffset? SetAsideAt { get; set; }

    public List<WebhookDeliveryAttempt> AttemptLog { get; init; } = [];

    /// <summary>What the try under way got, for <see cref="WebhookSender"/> to record with its outcome; not stored.</summary>
    public WebhookDeliveryAttempt? Try { get; set; }

    public string Status => DeliveredAt is not null ? DeliveryStatuses.Delivered : SetAsideAt is not null ? DeliveryStatuses.Failed : DeliveryStatuses.Pending;
}

/// <summary>One try of a delivery, as the integrator reads it in the delivery log.</summary>
internal sealed class WebhookDeliveryAttempt
{
    public long Id { get; set; }
    public long DeliveryRowId { get; init; }
    public DateTimeOffset AttemptedAt { get; init; }
    public int DurationMs { get; init; }

    /// <summary>The receiver's status code; null when there was no answer (timeout, refused, TLS).</summary>
    public int? ResponseStatus { get; init; }

    /// <summary>The start of the receiver's answer, truncated to <see cref="WebhookSender.MaxResponseBodyChars"/>.</summary>
    public string? ResponseBody { get; init; }

    public string? Error { get; init; }
}

internal static class DeliveryStatuses
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";

    public static readonly string[] All = [Pending, Delivered, Failed];
}
