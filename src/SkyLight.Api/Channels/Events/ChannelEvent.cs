namespace SkyLight.Api.Channels.Events;

/// <summary>
/// One change of a channel or of its connect attempt, written by <see cref="ChannelLifecycle"/> in the transaction
/// that makes the change (see <see cref="Data.SkyLightDb.Record"/>). Ids grow in commit order on every provider, so
/// a reader that asks for the events after the last id it saw never skips one.
/// </summary>
internal sealed class ChannelEvent
{
    public long Id { get; set; }
    public int WorkspaceId { get; init; }
    public required string ChannelType { get; init; }
    public int ChannelId { get; set; }
    public string? UnipileAccountId { get; init; }
    public ChannelEventType Type { get; init; }
    public StatusReason? Reason { get; init; }
    public ChangeSource Source { get; init; }
    public string? PreviousSyncStatus { get; init; }
    public bool? PreviousIsConnected { get; init; }
    public string? SyncStatus { get; init; }
    public bool IsConnected { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>The channel the event is about; its id is known only once a new channel is saved, just before the event.</summary>
    public Channel? Subject { get; init; }
}

/// <summary>What happened. On the wire: <c>channel.</c> and the snake_case name (<c>channel.connect_started</c>).</summary>
internal enum ChannelEventType
{
    /// <summary>A login attempt began: a QR to scan, or Instagram credentials sent.</summary>
    ConnectStarted,

    /// <summary>Instagram asks for a verification code (again, after a wrong code or another round).</summary>
    CheckpointRequired,

    /// <summary>A login attempt completed: the channel runs on the attempt's account.</summary>
    Connected,

    /// <summary>Unipile reports another status for the channel's account (or no account at all).</summary>
    StatusChanged,

    /// <summary>A login attempt ended without connecting, before its time was up.</summary>
    ConnectFailed,

    /// <summary>A login attempt's time ran out (its QR or code expired).</summary>
    ConnectExpired,

    /// <summary>The channel was removed; its Unipile accounts are being deleted.</summary>
    Disconnected,
}

/// <summary>Why a change happened: what an integrator can tell its user. On the wire in snake_case (<c>logged_out</c>).</summary>
internal enum StatusReason
{
    /// <summary>A fresh login was asked for (connect).</summary>
    ConnectRequested,

    /// <summary>A login on the channel's own account was asked for, after its session was lost.</summary>
    ReconnectRequested,

    /// <summary>A newer connect replaced this attempt: its QR or code no longer works.</summary>
    ReplacedByNewAttempt,

    /// <summary>Nobody scanned the QR in time.</summary>
    QrExpired,

    /// <summary>Nobody entered the Instagram code in time.</summary>
    CodeExpired,

    /// <summary>Instagram sent a verification code.</summary>
    CodeSent,

    /// <summary>Instagram asked for one more verification round.</summary>
    AnotherRound,

    /// <summary>The verification code was wrong; the attempt stays open.</summary>
    WrongCode,

    /// <summary>Instagram refused the username or password.</summary>
    WrongPassword,

    /// <summary>Instagram asked for a CAPTCHA, which cannot be solved through the API.</summary>
    CaptchaRequired,

    /// <summary>Instagram asked for another check that cannot be completed through the API.</summary>
    UnsupportedCheckpoint,

    /// <summary>The user logged in: a new account.</summary>
    LoginCompleted,

    /// <summary>The user logged in again on the channel's own account.</summary>
    Reconnected,

    /// <summary>The account is connected and Unipile is still synchronising it (CONNECTING).</summary>
    Syncing,

    /// <summary>The account runs again (OK or SYNC_SUCCESS), as a webhook, a status poll or a refresh showed.</summary>
    Recovered,

    /// <summary>The account runs again, as the periodic health check found without any webhook.</summary>
    HealthCheck,

    /// <summary>The session ended on the phone or its password changed (CREDENTIALS): reconnect.</summary>
    LoggedOut,

    /// <summary>The account was paused at Unipile (STOPPED).</summary>
    Paused,

    /// <summary>Unipile reports an error on the account (ERROR, or missing permissions).</summary>
    ProviderError,

    /// <summary>Unipile no longer has the account.</summary>
    DeletedAtProvider,

    /// <summary>The integrator disconnected the channel.</summary>
    DisconnectedByUser,
}

/// <summary>Who noticed or asked for a change. Decides, for a sync, what an unreadable Unipile means.</summary>
internal enum ChangeSource
{
    /// <summary>An API call of the integrator: connect, code, disconnect.</summary>
    User,

    /// <summary>A Unipile webhook: its message is a hint; when Unipile cannot be read, the inbox retries it later.</summary>
    Webhook,

    /// <summary>A status request polling a pending attempt: when Unipile cannot be read, nothing changes.</summary>
    StatusPoll,

    /// <summary>The refresh endpoint: Unipile's failure is the caller's answer (502/503/504).</summary>
    Refresh,

    /// <summary>The periodic health pass: when Unipile cannot be read, nothing changes.</summary>
    HealthPass,

    /// <summary>Unipile's own answer to a login (AccountCreated, AccountReconnected): trusted until the account can be read.</summary>
    LoginAnswer,

    /// <summary>An attempt's lifetime ran out.</summary>
    Expiry,
}

/// <summary>The wire names of event types, reasons and sources: snake_case, event types prefixed with <c>channel.</c>.</summary>
internal static class EventNames
{
    public static string Of(ChannelEventType type) => "channel." + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(type.ToString());

    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static readonly string[] Types = [.. Enum.GetValues<ChannelEventType>().Select(Of)];
}
