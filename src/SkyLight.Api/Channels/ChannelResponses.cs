using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Channels;

/// <summary>The seed's channel object, plus why and when its status last changed.</summary>
internal sealed record ChannelResponse(int Id, string Type, string? Username, bool IsConnected, string SyncStatus, string? LastSyncedAt,
    string? StatusReason, string? StatusChangedAt)
{
    public static ChannelResponse From(Channel channel, TimeZoneInfo zone) =>
        new(channel.Id, channel.Type, channel.Username, channel.IsConnected, channel.SyncStatus, WorkspaceTime.Format(channel.LastSyncedAt, zone),
            ReasonOf(channel), WorkspaceTime.Format(channel.StatusChangedAt, zone));

    /// <summary>The reason's wire name; null while the channel is connected.</summary>
    public static string? ReasonOf(Channel channel) => channel.StatusReason is { } reason ? Events.EventNames.Of(reason) : null;
}

/// <summary>The channel object plus the polling flags of the status endpoint; the seed's fields first, then the additions.</summary>
internal sealed record ChannelStatusResponse(
    int Id, string Type, string? Username, bool IsConnected, string SyncStatus, string? LastSyncedAt, bool Completed, bool InProgress,
    string? StatusReason, string? StatusChangedAt)
{
    public static ChannelStatusResponse From(ChannelStatusView view, TimeZoneInfo zone) =>
        new(view.Channel.Id, view.Channel.Type, view.Channel.Username, view.Channel.IsConnected, view.Channel.SyncStatus,
            WorkspaceTime.Format(view.Channel.LastSyncedAt, zone), view.Completed, view.InProgress,
            ChannelResponse.ReasonOf(view.Channel), WorkspaceTime.Format(view.Channel.StatusChangedAt, zone));
}

/// <summary>The seed's connect answer, plus when the attempt ends.</summary>
internal sealed record QrConnectResponse(string AccountId, string QrCode, string ExpiresAt);

internal static class ChannelNames
{
    public static string Display(string type) => type switch
    {
        ChannelTypes.WhatsApp => "WhatsApp",
        ChannelTypes.Telegram => "Telegram",
        ChannelTypes.Instagram => "Instagram",
        _ => type,
    };
}
