namespace SkyLight.Api.Campaigns;

/// <summary>An outreach campaign through one channel. Only its lifecycle lives here; sending is elsewhere.</summary>
internal sealed class Campaign
{
    public int Id { get; set; }
    public int WorkspaceId { get; set; }
    public required string Name { get; set; }

    /// <summary>The channel it sends through. No foreign key: the campaign outlives a disconnected channel.</summary>
    public required int ChannelId { get; init; }
    public string Status { get; set; } = CampaignStatuses.Draft;
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }
}

internal static class CampaignStatuses
{
    public const string Draft = "draft";
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Draft, Running, Paused, Completed, Cancelled];

    /// <summary>A running or paused campaign holds its channel: disconnect answers 422 until it is cancelled.</summary>
    public static readonly string[] HoldingChannel = [Running, Paused];
}
