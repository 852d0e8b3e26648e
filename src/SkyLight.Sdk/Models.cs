using System.Text.Json.Serialization;

namespace SkyLight.Sdk;

/// <summary>A channel: the connection of a workspace to WhatsApp, Telegram or Instagram.</summary>
/// <param name="Id">The channel setting id.</param>
/// <param name="Type">whatsapp, telegram or instagram.</param>
/// <param name="Username">The phone number (WhatsApp, with a leading +), Telegram username or Instagram username.</param>
/// <param name="IsConnected">Whether the channel is active.</param>
/// <param name="SyncStatus">OK, CONNECTING, SYNC_SUCCESS, CREDENTIALS, ERROR, STOPPED or CREATION_FAIL.</param>
/// <param name="LastSyncedAt">When the status last came from Unipile, in the workspace's offset.</param>
public sealed record Channel(int Id, string Type, string? Username, bool IsConnected, string SyncStatus, DateTimeOffset? LastSyncedAt)
{
    /// <summary>Why the status last changed (logged_out, paused, qr_expired, …; see <see cref="ChannelEvent.Reason"/>); null while connected.</summary>
    public string? StatusReason { get; init; }

    /// <summary>When sync_status or is_connected last changed.</summary>
    public DateTimeOffset? StatusChangedAt { get; init; }
}

/// <summary>A channel with the polling flags of the status endpoint.</summary>
/// <param name="Id">The channel setting id.</param>
/// <param name="Type">whatsapp or telegram.</param>
/// <param name="Username">The phone number or username once connected.</param>
/// <param name="IsConnected">Whether the channel is active.</param>
/// <param name="SyncStatus">The channel's sync status.</param>
/// <param name="LastSyncedAt">When the status last came from Unipile.</param>
/// <param name="Completed">True once the login completed.</param>
/// <param name="InProgress">True while the login attempt waits for its scan.</param>
public sealed record ChannelStatus(int Id, string Type, string? Username, bool IsConnected, string SyncStatus, DateTimeOffset? LastSyncedAt,
    bool Completed, bool InProgress)
{
    /// <summary>Why the status last changed; null while connected.</summary>
    public string? StatusReason { get; init; }

    /// <summary>When sync_status or is_connected last changed.</summary>
    public DateTimeOffset? StatusChangedAt { get; init; }

    /// <summary>The attempt ended without connecting (completed and in_progress both false): a new QR is needed.</summary>
    public bool Failed => !Completed && !InProgress;
}

/// <summary>A started QR login.</summary>
/// <param name="AccountId">The id to poll status with.</param>
/// <param name="QrCode">The text to render as a QR code (WhatsApp's multi-device string, or a tg://login link).</param>
/// <param name="ExpiresAt">When the attempt ends.</param>
public sealed record QrConnection(string AccountId, string QrCode, DateTimeOffset ExpiresAt);

/// <summary>Instagram asks for a verification code.</summary>
/// <param name="RequiresTwoFactor">Always true.</param>
/// <param name="AccountId">The id to submit the code with.</param>
/// <param name="CheckpointType">Instagram's check: OTP, 2FA, …</param>
public sealed record VerificationRequired([property: JsonPropertyName("requires_2fa")] bool RequiresTwoFactor, string AccountId, string CheckpointType);

/// <summary>Where an Instagram login stands: connected, or waiting for a code.</summary>
/// <param name="Channel">The connected channel, when the login went through.</param>
/// <param name="Verification">The code Instagram waits for, when it asked for one.</param>
/// <param name="Message">The API's message.</param>
public sealed record InstagramLogin(Channel? Channel, VerificationRequired? Verification, string? Message);

/// <summary>The workspace's channels in one call; null where a type is not connected.</summary>
/// <param name="Whatsapp">The WhatsApp channel.</param>
/// <param name="Telegram">The Telegram channel.</param>
/// <param name="Instagram">The Instagram channel.</param>
public sealed record AccountChannels(Channel? Whatsapp, Channel? Telegram, Channel? Instagram);

/// <summary>An outreach campaign (lifecycle only).</summary>
/// <param name="Id">The campaign id.</param>
/// <param name="Name">Its name.</param>
/// <param name="ChannelId">The channel it sends through.</param>
/// <param name="Status">draft, running, paused, completed or cancelled.</param>
/// <param name="CreatedAt">When it was created (UTC).</param>
/// <param name="UpdatedAt">When it last changed (UTC).</param>
public sealed record Campaign(int Id, string Name, int ChannelId, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One page of campaigns.</summary>
/// <param name="Items">The campaigns on this page, newest first.</param>
/// <param name="CurrentPage">This page's number.</param>
/// <param name="LastPage">The last page's number.</param>
/// <param name="PerPage">Items per page.</param>
/// <param name="Total">Campaigns in all.</param>
public sealed record CampaignPage(IReadOnlyList<Campaign> Items, int CurrentPage, int LastPage, int PerPage, int Total);

/// <summary>One change of a channel, from the workspace's journal.</summary>
/// <param name="Id">Grows in commit order: follow the journal with <see cref="ChannelEventQuery.After"/> set to the last id seen.</param>
/// <param name="Type">channel.connect_started, channel.checkpoint_required, channel.connected, channel.status_changed,
/// channel.connect_failed, channel.connect_expired or channel.disconnected (more may come).</param>
/// <param name="ChannelType">whatsapp, telegram or instagram.</param>
/// <param name="ChannelId">The channel's id (a disconnected channel's id stays in its events).</param>
/// <param name="AccountId">The Unipile account the change concerns, if any.</param>
/// <param name="Reason">Why: logged_out, paused, provider_error, deleted_at_provider, qr_expired, code_expired,
/// replaced_by_new_attempt, wrong_password, wrong_code, captcha_required, unsupported_checkpoint, disconnected_by_user,
/// health_check, recovered, syncing, connect_requested, reconnect_requested, code_sent, another_round, login_completed,
/// reconnected (more may come).</param>
/// <param name="Source">Who noticed or asked: user, webhook, status_poll, refresh, health_pass, login_answer, expiry.</param>
/// <param name="PreviousSyncStatus">The sync_status before the change; null for a channel the change created.</param>
/// <param name="PreviousIsConnected">is_connected before the change; null for a channel the change created.</param>
/// <param name="SyncStatus">The sync_status after the change; null once the channel was disconnected.</param>
/// <param name="IsConnected">is_connected after the change.</param>
/// <param name="OccurredAt">When it happened, in the workspace's offset.</param>
public sealed record ChannelEvent(long Id, string Type, string ChannelType, int ChannelId, string? AccountId, string? Reason, string Source,
    string? PreviousSyncStatus, bool? PreviousIsConnected, string? SyncStatus, bool IsConnected, DateTimeOffset OccurredAt);

/// <summary>One page of the journal.</summary>
/// <param name="Items">Newest first; oldest first when the query had <see cref="ChannelEventQuery.After"/>.</param>
/// <param name="CurrentPage">This page's number.</param>
/// <param name="LastPage">The last page's number.</param>
/// <param name="PerPage">Events per page.</param>
/// <param name="Total">Events in all (after <see cref="ChannelEventQuery.After"/>, when given).</param>
public sealed record ChannelEventPage(IReadOnlyList<ChannelEvent> Items, int CurrentPage, int LastPage, int PerPage, int Total);

/// <summary>Which events to read.</summary>
public sealed class ChannelEventQuery
{
    /// <summary>whatsapp, telegram or instagram; null for every type.</summary>
    public string? Type { get; set; }

    /// <summary>Only events after this id, oldest first; null for newest first.</summary>
    public long? After { get; set; }

    /// <summary>The page, from 1.</summary>
    public int Page { get; set; } = 1;

    /// <summary>Events per page, 1 to 100.</summary>
    public int PerPage { get; set; } = 15;
}

/// <summary>Image formats of the QR endpoint.</summary>
public enum QrImageFormat
{
    /// <summary>A PNG image.</summary>
    Png,

    /// <summary>An SVG document.</summary>
    Svg,
}
