using SkyLight.Api.Hosting;

namespace SkyLight.Api.Webhooks;

/// <summary>A Unipile webhook as received: stored before we answer 200, processed afterwards.</summary>
internal sealed class WebhookInboxItem : IQueueItem
{
    public long Id { get; set; }
    public required string Body { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? LeasedUntil { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? SetAsideAt { get; set; }
}
