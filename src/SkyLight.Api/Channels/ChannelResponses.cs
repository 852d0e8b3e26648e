using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Channels;

/// <summary>The seed's channel object.</summary>
internal sealed record ChannelResponse(int Id, string Type, string? Username, bool IsConnected, string SyncStatus, string? LastSyncedAt)
{
    public static ChannelResponse From(Channel channel, TimeZoneInfo zone) =>
        new(channel.Id, channel.Type, channel.Username, channel.IsConnected, channel.SyncStatus, WorkspaceTime.Format(channel.LastSyncedAt, zone));
}

/// <summary>The channel object plus the polling flags of the status endpoint.</summary>
internal sealed record ChannelStatusResponse(
    int Id, string Type, string? Username, bool IsConnected, string SyncStatus, string? LastSyncedAt, bool Completed, bool InProgress)
{
    public static ChannelStatusResponse From(Channel channel, TimeZoneInfo zone, bool completed, bool inProgress) =>
        new(channel.Id, channel.Type, channel.Username, channel.IsConnected, channel.SyncStatus,
            WorkspaceTime.Format(channel.LastSyncedAt, zone), completed, inProgress);
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
