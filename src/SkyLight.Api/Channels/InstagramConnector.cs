using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

internal enum InstagramStepKind { Connected, CodeRequired, AnotherRound, AlreadyConnected, InvalidCredentials, InvalidCode, Expired, UnsupportedCheckpoint, NotFound, Resent, Cooldown, Disconnected }

/// <summary>Where an Instagram login stands after a call: the channel, the attempt waiting for a code, or why not.</summary>
internal sealed record InstagramStep(InstagramStepKind Kind, Channel? Channel = null, ConnectAttempt? Attempt = null, string? Checkpoint = null, int RetryAfter = 0);

/// <summary>
/// The Instagram login: credentials, then as many verification rounds as Instagram asks for. The password
/// goes to Unipile and nowhere else: not stored, not logged, not part of any exception.
/// </summary>
internal sealed class InstagramConnector(
    SkyLightDb db, AttemptStore attempts, UnipileLogins logins, UnipileClient unipile, ChannelSync sync, ChannelLifecycle lifecycle, TimeProvider time,
    IOptions<ChannelsOptions> options)
{
    private const string Type = ChannelTypes.Instagram;

    /// <summary>Checkpoints a user can answer with a code; anything else (CAPTCHA, …) cannot be completed here.</summary>
    private static readonly string[] CodeCheckpoints = ["OTP", "2FA"];

    public async Task<InstagramStep> ConnectAsync(string username, string password, string country, CancellationToken ct)
    {
        var channel = await db.Channels.SingleOrDefaultAsync(c => c.Type == Type, ct);
        if (channel is { IsConnected: true })
        {
            return new InstagramStep(InstagramStepKind.AlreadyConnected);
        }
        var pending = await attempts.PendingAsync(Type, ct);
        if (pending is { IsReconnect: true } && time.GetUtcNow() < pending.ExpiresAt)
        {
            // Unipile allows one intent per account: the code already sent is still the one to enter
            return new InstagramStep(InstagramStepKind.CodeRequired, Attempt: pending, Checkpoint: pending.CheckpointType);
        }

        // the same Instagram user after a lost session: reconnect, keeping the Unipile account
        var reconnectId = channel is { UnipileAccountId: { } id } && SyncStatuses.LostSession(channel.SyncStatus) &&
            string.Equals(channel.Username, username, StringComparison.OrdinalIgnoreCase) ? id : null;
        var request = new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = password, Country = country };
        ConnectOutcome outcome;
        NewAccount account;
        try
        {
            (outcome, account) = await logins.ReconnectOrConnectAsync(Type, reconnectId, request, ct);
        }
        catch (UnipileException e) when (e.Is(HttpStatusCode.Unauthorized, "errors/invalid_credentials"))
        {
            await RefusedAsync(reconnectId, StatusReason.WrongPassword, ct);
            return new InstagramStep(InstagramStepKind.InvalidCredentials);
        }
        catch (UnipileException e) when (e.StatusCode == (HttpStatusCode)425)
        {
            // a concurrent connect got this account's intent first: its code is the one to enter
            if (await attempts.PendingAsync(Type, ct) is not { } current)
            {
                throw;
            }
            return new InstagramStep(InstagramStepKind.CodeRequired, Attempt: current, Checkpoint: current.CheckpointType);
        }

        var checkpoint = outcome.Checkpoint?.Type;
        if (checkpoint is not null && !CodeCheckpoints.Contains(checkpoint))
        {
            await attempts.ForgetAccountAsync(account, CancellationToken.None);
            await RefusedAsync(account.AccountId, UncompletableReason(checkpoint), CancellationToken.None);
            return new InstagramStep(InstagramStepKind.UnsupportedCheckpoint, Checkpoint: checkpoint);
        }

        var (attempt, won) = await attempts.SaveOrYieldAsync(Type, channel, pending, account, qrCode: null, checkpoint);
        return attempt switch
        {
            null => new InstagramStep(InstagramStepKind.AlreadyConnected),
            _ when won && checkpoint is null => await ConnectedAsync(attempt.UnipileAccountId, CancellationToken.None),
            _ => new InstagramStep(InstagramStepKind.CodeRequired, Attempt: attempt, Checkpoint: attempt.CheckpointType),
        };
    }

    public async Task<InstagramStep> SolveAsync(string accountId, string code, CancellationToken ct)
    {
        var (attempt, problem) = await OpenAttemptAsync(accountId, ct);
        if (problem is not null)
        {
            return problem;
        }
        ConnectOutcome outcome;
        try
        {
            outcome = await unipile.SolveCheckpointAsync(accountId, UnipileProvider.Instagram, code, ct);
        }
        catch (UnipileException e) when (e.Is(HttpStatusCode.Unauthorized, "errors/invalid_checkpoint_solution"))
        {
            // the attempt stays open; the journal shows the round is still waiting, and why
            lifecycle.CheckpointRequired(attempt!, attempt!.CheckpointType ?? "OTP", StatusReason.WrongCode);
            await SaveIgnoringLostRaceAsync(ct);
            return new InstagramStep(InstagramStepKind.InvalidCode, Attempt: attempt);
        }
        catch (UnipileException e) when (IntentGone(e))
        {
            return await ExpireAsync(attempt!, ct);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return await LostMeanwhileAsync(attempt!.Id, ct);   // a disconnect deleted the account while the code travelled
        }

        if (outcome.Checkpoint?.Type is { } next)
        {
            if (!CodeCheckpoints.Contains(next))
            {
                lifecycle.EndAttempt(attempt!, attempt!.Channel, AttemptEnd.Failed, UncompletableReason(next), ChangeSource.User);
                await SaveIgnoringLostRaceAsync(ct);
                return new InstagramStep(InstagramStepKind.UnsupportedCheckpoint, Checkpoint: next);
            }
            lifecycle.CheckpointRequired(attempt!, next, StatusReason.AnotherRound);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (SkyLightDb.LostRace(e))
            {
                db.ChangeTracker.Clear();
                if (await db.ConnectAttempts.Include(a => a.Channel).SingleOrDefaultAsync(a => a.Id == attempt!.Id, ct) is not { IsPending: true } current)
                {
                    return await LostMeanwhileAsync(attempt!.Id, ct);   // disconnected, expired or replaced during the round
                }
                lifecycle.CheckpointRequired(current, next, StatusReason.AnotherRound);   // still open: only a deadlock's victim, so save it again
                await db.SaveChangesAsync(ct);
                attempt = current;
            }
            return new InstagramStep(InstagramStepKind.AnotherRound, Attempt: attempt, Checkpoint: next);
        }
        return await ConnectedAsync(accountId, ct);
    }

    public async Task<InstagramStep> ResendAsync(string accountId, CancellationToken ct)
    {
        var (attempt, problem) = await OpenAttemptAsync(accountId, ct);
        if (problem is not null)
        {
            return problem;
        }

        // claimed in the database, so the cooldown holds across requests and nodes
        var now = time.GetUtcNow();
        var cooldown = options.Value.ResendCooldown;
        var notBefore = now - cooldown;
        var previous = attempt!.LastResendAt;
        var claimed = await db.ConnectAttempts.Where(a => a.Id == attempt.Id && (a.LastResendAt == null || a.LastResendAt <= notBefore))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastResendAt, now), ct);
        if (claimed == 0)
        {
            if (await db.ConnectAttempts.Where(a => a.Id == attempt.Id).Select(a => new { a.LastResendAt }).SingleOrDefaultAsync(ct) is not { } current)
            {
                return new InstagramStep(InstagramStepKind.NotFound);   // disconnected meanwhile
            }
            var last = current.LastResendAt ?? now;
            return new InstagramStep(InstagramStepKind.Cooldown, RetryAfter: Math.Max(1, (int)Math.Ceiling((last + cooldown - now).TotalSeconds)));
        }

        try
        {
            await unipile.ResendCheckpointAsync(accountId, UnipileProvider.Instagram, ct);
        }
        catch (UnipileException e) when (IntentGone(e))
        {
            return await ExpireAsync(attempt, ct);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return await LostMeanwhileAsync(attempt.Id, ct);
        }
        catch (UnipileException)
        {
            // nothing was sent: the user may try again at once
            await db.ConnectAttempts.Where(a => a.Id == attempt.Id).ExecuteUpdateAsync(s => s.SetProperty(a => a.LastResendAt, previous), ct);
            throw;
        }
        return new InstagramStep(InstagramStepKind.Resent, Attempt: attempt);
    }

    /// <summary>The workspace's Instagram attempt for the account, if it can still take a code.</summary>
    private async Task<(ConnectAttempt? Attempt, InstagramStep? Problem)> OpenAttemptAsync(string accountId, CancellationToken ct)
    {
        var attempt = await db.ConnectAttempts.Include(a => a.Channel)
            .Where(a => a.ChannelType == Type && a.UnipileAccountId == accountId).OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
        return attempt switch
        {
            null => (null, new InstagramStep(InstagramStepKind.NotFound)),
            { State: AttemptStates.Completed } => (attempt, new InstagramStep(InstagramStepKind.Connected, attempt.Channel)),
            { IsPending: false } => (attempt, new InstagramStep(InstagramStepKind.Expired)),
            _ when time.GetUtcNow() >= attempt.ExpiresAt => (attempt, await ExpireAsync(attempt, ct)),
            _ => (attempt, null),
        };
    }

    /// <summary>
    /// The attempt changed under this request, or Unipile no longer knows its account: 404 when a disconnect removed it,
    /// expired otherwise (an attempt still pending whose account Unipile lost is ended now).
    /// </summary>
    private async Task<InstagramStep> LostMeanwhileAsync(int attemptId, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        return await db.ConnectAttempts.Include(a => a.Channel).SingleOrDefaultAsync(a => a.Id == attemptId, ct) switch
        {
            null => new InstagramStep(InstagramStepKind.NotFound),
            { IsPending: true } pending => await ExpireAsync(pending, ct),
            _ => new InstagramStep(InstagramStepKind.Expired),
        };
    }

    private async Task<InstagramStep> ExpireAsync(ConnectAttempt attempt, CancellationToken ct)
    {
        await AttemptExpiry.ExpireAsync(db, lifecycle, attempt.Id, ChangeSource.User, ct);
        return new InstagramStep(InstagramStepKind.Expired);
    }

    /// <summary>A login Instagram refused before any attempt was saved: the journal of an existing channel shows why.</summary>
    private async Task RefusedAsync(string? accountId, StatusReason reason, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        if (await db.Channels.SingleOrDefaultAsync(c => c.Type == Type, ct) is { } channel)
        {
            lifecycle.LoginRefused(channel, accountId, reason);
            await SaveIgnoringLostRaceAsync(ct);
        }
    }

    /// <summary>Saves a change that another writer may have overtaken: then the other writer's change stands.</summary>
    private async Task SaveIgnoringLostRaceAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (SkyLightDb.LostRace(e))
        {
            db.ChangeTracker.Clear();
        }
    }

    private static StatusReason UncompletableReason(string checkpoint) =>
        checkpoint == "CAPTCHA" ? StatusReason.CaptchaRequired : StatusReason.UnsupportedCheckpoint;

    private async Task<InstagramStep> ConnectedAsync(string accountId, CancellationToken ct)
    {
        await sync.SyncAccountAsync(accountId, ChangeSource.LoginAnswer, UnipileHint.LoginCompleted, ct);
        // a disconnect may have removed the channel meanwhile: the login then has nothing to show
        return await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == Type, ct) is { } channel
            ? new InstagramStep(InstagramStepKind.Connected, channel)
            : new InstagramStep(InstagramStepKind.Disconnected);
    }

    /// <summary>Unipile has forgotten the intent: timed out (408, then 400 invalid_request) or killed after a failure.</summary>
    private static bool IntentGone(UnipileException e) =>
        e.StatusCode == HttpStatusCode.RequestTimeout || e.Is(HttpStatusCode.BadRequest, "errors/invalid_request") ||
        e.Type == "errors/authentication_intent_error";
}
