namespace SkyLight.Api.Notifications;

/// <summary>
/// Where a workspace wants its channel events delivered. The signing secret is kept only as Data Protection ciphertext
/// (<see cref="WebhookSecrets"/>); during a rotation's grace period the previous one signs too.
/// </summary>
internal sealed class WebhookEndpoint
{
    public int Id { get; set; }
    public int WorkspaceId { get; init; }
    public required string Name { get; set; }
    public required string Url { get; set; }

    /// <summary>The event types it receives, comma-separated (<c>*</c> for every channel event).</summary>
    public required string Events { get; set; }

    public bool IsActive { get; set; } = true;

    /// <summary>Why the service switched it off (it kept failing); null when active or switched off by the integrator.</summary>
    public string? DisabledReason { get; set; }

    public required string ProtectedSecret { get; set; }
    public string? ProtectedPreviousSecret { get; set; }
    public DateTimeOffset? PreviousSecretExpiresAt { get; set; }

    /// <summary>When the first attempt failed since the last one that succeeded; null while it answers.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    public IReadOnlyList<string> EventList => Events.Split(',', StringSplitOptions.RemoveEmptyEntries);

    public bool Receives(string eventType) => EventList.Any(e => e == WebhookEventTypes.All || e == eventType);
}

/// <summary>The event types an endpoint can subscribe to: the journal's, the wildcard, and the test event.</summary>
internal static class WebhookEventTypes
{
    public const string All = "*";
    public const string Test = "webhook.test";

    public static readonly string[] Subscribable = [All, .. Channels.Events.EventNames.Types, Test];
}
