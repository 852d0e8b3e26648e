namespace SkyLight.Api.Webhooks;

/// <summary>A Unipile webhook as received: stored before we answer 200, processed afterwards.</summary>
internal sealed class WebhookInboxItem
{
    public long Id { get; set; }
    public required string Body { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>Set by the node working on it; another node takes over once it passes (the first one died).</summary>
    public DateTimeOffset? LeasedUntil { get; set; }

    /// <summary>Why the last attempt failed, for whoever inspects a set-aside item. Never holds a secret.</summary>
    public string? LastError { get; set; }

    /// <summary>
    /// When the item was set aside: it could not be parsed, or failed too often. It stays for inspection and is
    /// never tried again, so one bad item cannot hold the inbox.
    /// </summary>
    public DateTimeOffset? SetAsideAt { get; set; }
}
