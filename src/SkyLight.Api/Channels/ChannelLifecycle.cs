using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// The one owner of every state change of a channel and its connect attempts: start, replace, complete, fail,
/// expire, check again, status changes reported by Unipile, and disconnect. Each change is made on tracked entities
/// and recorded as a <see cref="ChannelEvent"/> in the same unit of work, so the caller's save commits both or
/// neither. Callers decide when to read and when to save; what a change means is decided here.
/// </summary>
internal sealed class ChannelLifecycle(SkyLightDb db, TimeProvider time, ILogger<ChannelLifecycle> log)
{
    /// <summary>A new channel of the workspace, created by its first connect.</summary>
    public Channel NewChannel(int workspaceId, string type)
    {
        var now = time.GetUtcNow();
        return db.Channels.Add(new Channel
        {
            WorkspaceId = workspaceId, Type = type, CreatedAt = now, SyncStatus = SyncStatuses.Connecting,
            StatusReason = StatusReason.ConnectRequested, StatusChangedAt = now,
        }).Entity;
    }

    /// <summary>
    /// A login attempt on <paramref name="channel"/> for the account Unipile answered with: a fresh account shows the
    /// channel CONNECTING; a reconnect keeps the lost session's status until the user logs in.
    /// </summary>
    public ConnectAttempt StartAttempt(Channel channel, NewAccount account, string? qrCode, string? checkpointType, TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        var before = Before(channel);
        var reason = account.IsReconnect ? StatusReason.ReconnectRequested : StatusReason.ConnectRequested;
        if (!account.IsReconnect)
        {
            SetStatus(channel, channel.IsConnected, SyncStatuses.Connecting, reason, now);
        }
        var attempt = db.ConnectAttempts.Add(new ConnectAttempt
        {
            WorkspaceId = channel.WorkspaceId,
            Channel = channel,
            ChannelType = channel.Type,
            UnipileAccountId = account.AccountId,
            QrCode = qrCode,
            CheckpointType = checkpointType,
            IsReconnect = account.IsReconnect,
            StartedAt = now,
            ExpiresAt = now + lifetime,
        }).Entity;
        Record(ChannelEventType.ConnectStarted, channel, account.AccountId, reason, ChangeSource.User, before, now);
        if (checkpointType is not null)
        {
            Record(ChannelEventType.CheckpointRequired, channel, account.AccountId, StatusReason.CodeSent, ChangeSource.User, Snapshot.Current(channel), now);
        }
        return attempt;
    }

    /// <summary>
    /// Ends a pending attempt that did not connect: its QR is forgotten, and a fresh account (never a reconnected one,
    /// which is the channel's own) is queued for deletion. A fresh login that failed or expired leaves a channel that
    /// is not connected in CREATION_FAIL; one replaced by a newer attempt leaves the channel to that attempt.
    /// </summary>
    public void EndAttempt(ConnectAttempt attempt, Channel channel, AttemptEnd end, StatusReason reason, ChangeSource source)
    {
        if (!attempt.IsPending)
        {
            return;
        }
        var now = time.GetUtcNow();
        var before = Before(channel);
        attempt.End(end == AttemptEnd.Replaced && !attempt.IsReconnect ? AttemptStates.Cancelled : AttemptStates.Failed, now);
        if (!attempt.IsReconnect)
        {
            QueueDeletion(attempt.UnipileAccountId, now);
            if (end != AttemptEnd.Replaced && !channel.IsConnected)
            {
                SetStatus(channel, false, SyncStatuses.CreationFail, reason, now);
            }
        }
        var type = end == AttemptEnd.Expired ? ChannelEventType.ConnectExpired : ChannelEventType.ConnectFailed;
        Record(type, channel, attempt.UnipileAccountId, reason, source, before, now);
    }

    /// <summary>Instagram asks for a code again: another round, or the same round after a wrong code.</summary>
    public void CheckpointRequired(ConnectAttempt attempt, string checkpointType, StatusReason reason)
    {
        attempt.CheckpointType = checkpointType;
        Record(ChannelEventType.CheckpointRequired, attempt.Channel, attempt.UnipileAccountId, reason, ChangeSource.User, Snapshot.Current(attempt.Channel), time.GetUtcNow());
    }

    /// <summary>A login that Unipile refused before any attempt was saved (wrong password, a CAPTCHA): recorded on an existing channel.</summary>
    public void LoginRefused(Channel channel, string? accountId, StatusReason reason) =>
        Record(ChannelEventType.ConnectFailed, channel, accountId, reason, ChangeSource.User, Snapshot.Current(channel), time.GetUtcNow());

    /// <summary>
    /// The status table: applies what Unipile says about the account of <paramref name="channel"/> or of its
    /// <paramref name="pending"/> attempt. CREATION_SUCCESS/RECONNECTED complete an attempt (CONNECTING until OK); OK
    /// and SYNC_SUCCESS connect; CONNECTING keeps is_connected; CREDENTIALS, ERROR, STOPPED disconnect; an account gone
    /// from Unipile is ERROR, or CREATION_FAIL for an attempt that never connected.
    /// </summary>
    public void ApplyUnipile(Channel channel, ConnectAttempt? pending, UnipileReport report, ChangeSource source)
    {
        if (channel.LastSyncedAt is { } synced && synced > report.ReadAt)
        {
            return;   // a reading that Unipile gave after this one is applied already: this one is older news
        }
        var now = time.GetUtcNow();
        var read = report.ReadAt;
        if (report.Gone)
        {
            if (pending is { IsReconnect: false })
            {
                // CREATION_FAIL, unless the channel runs on an account of its own: only the attempt's account is gone
                EndAttempt(pending, channel, AttemptEnd.Failed, StatusReason.DeletedAtProvider, source);
                channel.LastSyncedAt = channel.IsConnected ? channel.LastSyncedAt : read;
                return;
            }
            if (pending is not null)
            {
                EndAttempt(pending, channel, AttemptEnd.Failed, StatusReason.DeletedAtProvider, source);
            }
            FromUnipile(channel, false, SyncStatuses.Error, StatusReason.DeletedAtProvider, source, now, read);
            return;
        }

        var account = report.Account;
        var status = account?.Status;   // no account: only a login answer gets this far
        // a login completes an attempt; a late copy must not revive a session Unipile says is lost
        if (report.Hint == UnipileHint.LoginCompleted && (pending is not null || account is null) && !SyncStatuses.LostSession(status ?? "") &&
            (source == ChangeSource.LoginAnswer || LoggedIn(channel.Type, account)))
        {
            Connected(channel, pending, account, status == SyncStatuses.Ok ? SyncStatuses.Ok : SyncStatuses.Connecting, source, now, read);
            return;
        }
        switch (status)
        {
            case SyncStatuses.Ok or SyncStatuses.SyncSuccess:
                Connected(channel, pending, account, report.Hint == UnipileHint.SyncSucceeded ? SyncStatuses.SyncSuccess : SyncStatuses.Ok, source, now, read);
                break;
            case SyncStatuses.Connecting:
                FromUnipile(channel, channel.IsConnected, SyncStatuses.Connecting, StatusReason.Syncing, source, now, read);
                break;
            case SyncStatuses.Credentials:
                // a pending reconnect still shows the lost session until the user scans: the attempt goes on
                FromUnipile(channel, false, status, StatusReason.LoggedOut, source, now, read);
                break;
            case SyncStatuses.Stopped:
                FromUnipile(channel, false, status, StatusReason.Paused, source, now, read);
                break;
            case SyncStatuses.Error:
                FromUnipile(channel, false, status, StatusReason.ProviderError, source, now, read);
                break;
            case "PERMISSIONS":
                FromUnipile(channel, false, SyncStatuses.Error, StatusReason.ProviderError, source, now, read);
                break;
            default:
                log.LogWarning("Unipile status {Status} for channel {ChannelId} is not one we know; ignored", status, channel.Id);
                break;
        }
    }

    /// <summary>
    /// Removes the channel; its attempts go with it (cascade) and every Unipile account it or a pending attempt
    /// holds is queued for deletion in the same unit of work.
    /// </summary>
    public void Disconnect(Channel channel, IEnumerable<string> pendingAccounts)
    {
        var now = time.GetUtcNow();
        foreach (var account in pendingAccounts.Append(channel.UnipileAccountId).OfType<string>().Distinct())
        {
            QueueDeletion(account, now);
        }
        var before = Before(channel);
        db.Channels.Remove(channel);
        Record(ChannelEventType.Disconnected, channel, channel.UnipileAccountId, StatusReason.DisconnectedByUser, ChangeSource.User, before, now,
            after: new Snapshot(null, false));   // no channel is left to have a status
    }

    /// <summary>Queues a Unipile account this service no longer tracks for deletion, with whatever else the caller saves.</summary>
    public void QueueDeletion(string accountId, DateTimeOffset now) =>
        db.RemoteDeletions.Add(new RemoteDeletion { UnipileAccountId = accountId, RequestedAt = now, NextAttemptAt = now });

    private void Connected(Channel channel, ConnectAttempt? pending, UnipileAccount? account, string syncStatus, ChangeSource source,
        DateTimeOffset now, DateTimeOffset read)
    {
        if (pending is null)
        {
            channel.Username = UsernameOf(channel.Type, account) ?? channel.Username;
            FromUnipile(channel, true, syncStatus, source == ChangeSource.HealthPass ? StatusReason.HealthCheck : StatusReason.Recovered, source, now, read);
            return;
        }
        var before = Before(channel);
        pending.End(AttemptStates.Completed, now);
        if (channel.UnipileAccountId is { } previous && previous != pending.UnipileAccountId)
        {
            QueueDeletion(previous, now);   // a channel holds one Unipile account
        }
        channel.UnipileAccountId = pending.UnipileAccountId;
        channel.Username = UsernameOf(channel.Type, account) ?? channel.Username;
        var reason = pending.IsReconnect ? StatusReason.Reconnected : StatusReason.LoginCompleted;
        SetStatus(channel, true, syncStatus, reason, now);
        channel.LastSyncedAt = read;
        Record(ChannelEventType.Connected, channel, pending.UnipileAccountId, reason, source, before, now);
    }

    /// <summary>A status Unipile reported (read at <paramref name="read"/>): last_synced_at moves either way; an event only when the status changed.</summary>
    private void FromUnipile(Channel channel, bool connected, string syncStatus, StatusReason reason, ChangeSource source, DateTimeOffset now, DateTimeOffset read)
    {
        var before = Before(channel);
        channel.LastSyncedAt = read;
        if (SetStatus(channel, connected, syncStatus, reason, now))
        {
            Record(ChannelEventType.StatusChanged, channel, channel.UnipileAccountId, reason, source, before, now);
        }
    }

    /// <summary>Sets the status; when it changed, so do status_changed_at and status_reason (null while connected).</summary>
    private static bool SetStatus(Channel channel, bool connected, string syncStatus, StatusReason reason, DateTimeOffset now)
    {
        if (channel.IsConnected == connected && channel.SyncStatus == syncStatus)
        {
            return false;
        }
        channel.IsConnected = connected;
        channel.SyncStatus = syncStatus;
        channel.StatusReason = connected ? null : reason;
        channel.StatusChangedAt = now;
        return true;
    }

    /// <summary>Adds the event of a change to the unit of work: the channel's status before it, and after (its status now, unless given).</summary>
    private void Record(ChannelEventType type, Channel channel, string? accountId, StatusReason reason, ChangeSource source, Snapshot before,
        DateTimeOffset now, Snapshot? after = null)
    {
        after ??= Snapshot.Current(channel);
        db.Record(new ChannelEvent
        {
            WorkspaceId = channel.WorkspaceId, ChannelType = channel.Type, ChannelId = channel.Id, Subject = channel, UnipileAccountId = accountId,
            Type = type, Reason = reason, Source = source, PreviousSyncStatus = before.SyncStatus, PreviousIsConnected = before.IsConnected,
            SyncStatus = after.SyncStatus, IsConnected = after.IsConnected ?? false, OccurredAt = now,
        });
    }

    /// <summary>
    /// Whether Unipile's account shows a login behind a CREATION_SUCCESS webhook: running, or still syncing but with
    /// the user it logged in (an unscanned QR has none), so a replayed or forged message cannot connect a QR nobody scanned.
    /// </summary>
    private static bool LoggedIn(string type, UnipileAccount? account) =>
        account?.Status is SyncStatuses.Ok or SyncStatuses.SyncSuccess || UsernameOf(type, account) is not null;

    /// <summary>WhatsApp: the phone number with a leading +. Telegram: the username, else the user id. Instagram: the username.</summary>
    private static string? UsernameOf(string type, UnipileAccount? account) => (type, account?.Im) switch
    {
        (ChannelTypes.WhatsApp, { PhoneNumber: { Length: > 0 } phone }) => phone.StartsWith('+') ? phone : "+" + phone,
        (ChannelTypes.Telegram, { Username: { Length: > 0 } username }) => username,
        (ChannelTypes.Telegram, { UserId: { Length: > 0 } userId }) => userId,
        (ChannelTypes.Instagram, { Username: { Length: > 0 } username }) => username,
        _ => null,
    };

    /// <summary>The channel's status before a change; a channel not saved yet had none.</summary>
    private Snapshot Before(Channel channel) =>
        db.Entry(channel).State == Microsoft.EntityFrameworkCore.EntityState.Added ? new Snapshot(null, null) : Snapshot.Current(channel);

    private sealed record Snapshot(string? SyncStatus, bool? IsConnected)
    {
        public static Snapshot Current(Channel channel) => new(channel.SyncStatus, channel.IsConnected);
    }
}

/// <summary>How an attempt that did not connect ended.</summary>
internal enum AttemptEnd
{
    /// <summary>A newer connect took its place.</summary>
    Replaced,

    /// <summary>It failed before its time was up (Unipile lost the account, a check that cannot be passed).</summary>
    Failed,

    /// <summary>Its time ran out.</summary>
    Expired,
}

/// <summary>What a webhook's message or a login answer adds to Unipile's account: only these two ever matter.</summary>
internal enum UnipileHint
{
    None,

    /// <summary>CREATION_SUCCESS or RECONNECTED: a login completed (confirmed against the account unless it is Unipile's own login answer).</summary>
    LoginCompleted,

    /// <summary>SYNC_SUCCESS: the account finished its first synchronisation.</summary>
    SyncSucceeded,
}

/// <summary>What Unipile says about an account: the account, or that it is gone (404), the hint that came with the news, and when it was read.</summary>
/// <remarks>
/// <see cref="ReadAt"/> is when the read began: of two readings applied in either order, the later one wins, so two syncs
/// of one account that overtake each other still leave Unipile's newer answer (see <see cref="ChannelLifecycle.ApplyUnipile"/>).
/// </remarks>
internal sealed record UnipileReport(UnipileAccount? Account, bool Gone, UnipileHint Hint, DateTimeOffset ReadAt)
{
    public static UnipileHint HintOf(string? message) => message switch
    {
        "CREATION_SUCCESS" or "RECONNECTED" => UnipileHint.LoginCompleted,
        SyncStatuses.SyncSuccess => UnipileHint.SyncSucceeded,
        _ => UnipileHint.None,
    };
}
