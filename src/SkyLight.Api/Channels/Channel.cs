namespace SkyLight.Api.Channels;

/// <summary>
/// A workspace's connection to one messaging network: the seed's "channel setting". One per workspace and
/// type; created by the first connect, deleted by disconnect.
/// </summary>
internal sealed class Channel
{
    public int Id { get; set; }
    public int WorkspaceId { get; set; }
    public required string Type { get; init; }
    public string? UnipileAccountId { get; set; }
    public string? Username { get; set; }
    public bool IsConnected { get; set; }
    public string SyncStatus { get; set; } = SyncStatuses.Connecting;

    /// <summary>Why the status last changed (<see cref="ChannelLifecycle"/>); null while the channel is connected.</summary>
    public Events.StatusReason? StatusReason { get; set; }

    /// <summary>When sync_status or is_connected last changed.</summary>
    public DateTimeOffset? StatusChangedAt { get; set; }

    /// <summary>The last time this channel's status came from Unipile (a webhook, a poll or a refresh).</summary>
    public DateTimeOffset? LastSyncedAt { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// Bumped by <see cref="Data.SkyLightDb"/> whenever the set of Unipile accounts the channel holds changes (its
    /// account, a new attempt): a disconnect or a completion that read an older set fails and reads again.
    /// </summary>
    public int Version { get; set; }
}

internal static class ChannelTypes
{
    public const string WhatsApp = "whatsapp";
    public const string Telegram = "telegram";
    public const string Instagram = "instagram";

    public static readonly string[] All = [WhatsApp, Telegram, Instagram];

    public static string Provider(string type) => type switch
    {
        WhatsApp => Unipile.UnipileProvider.WhatsApp,
        Telegram => Unipile.UnipileProvider.Telegram,
        Instagram => Unipile.UnipileProvider.Instagram,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a channel type"),
    };
}

/// <summary>The seed's sync_status values.</summary>
internal static class SyncStatuses
{
    public const string Ok = "OK";
    public const string Connecting = "CONNECTING";
    public const string SyncSuccess = "SYNC_SUCCESS";
    public const string Credentials = "CREDENTIALS";
    public const string Error = "ERROR";
    public const string Stopped = "STOPPED";
    public const string CreationFail = "CREATION_FAIL";

    /// <summary>The session was lost but the Unipile account lives: connect reconnects it, keeping its id.</summary>
    public static bool LostSession(string status) => status is Credentials or Error or Stopped;
}
