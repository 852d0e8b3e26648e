using System.Text.Json.Serialization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Unipile;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Connect;

/// <summary>What the connect page shows: one screen, an optional notice (a key of <see cref="PageText"/>), and its details.</summary>
internal sealed record PageState(string Screen, string? Notice = null)
{
    public string? QrImage { get; init; }
    public int? ExpiresInSeconds { get; init; }
    public int? Round { get; init; }
    public int? ResendInSeconds { get; init; }
    public int? ChannelId { get; init; }
    public string? RedirectUrl { get; init; }
    public string? CancelUrl { get; init; }

    [JsonIgnore]
    public bool TooManyTries => Notice == Notices.TooManyTries;
}

internal static class Screens
{
    public const string Loading = "loading";
    public const string Qr = "qr";
    public const string Expired = "expired";
    public const string Error = "error";
    public const string Login = "login";
    public const string Code = "code";
    public const string Success = "success";
    public const string Invalid = "invalid";
}

internal static class Notices
{
    public const string WrongPassword = "wrong_password";
    public const string WrongCode = "wrong_code";
    public const string Captcha = "captcha";
    public const string CheckpointUnsupported = "checkpoint_unsupported";
    public const string TooManyTries = "too_many_tries";
    public const string ResendCooldown = "resend_cooldown";
    public const string Resent = "resent";
    public const string AnotherRound = "another_round";
    public const string AlreadyConnected = "already_connected";
    public const string Unavailable = "unavailable";
    public const string Failed = "failed";
    public const string LoginExpired = "login_expired";
}

/// <summary>
/// The connect page's side of a link: opened by its token, it acts for the link's workspace (the tenant filters apply
/// as for an API key) and only on the link's channel type, through the same connectors as the API.
/// </summary>
internal sealed class ConnectSession(SkyLightDb db, CurrentWorkspace workspace, TimeProvider time, IServiceProvider services, IOptions<ConnectOptions> options,
    IOptions<ChannelsOptions> channelsOptions)
{
    private ConnectLink? _link;

    public ConnectLink Link => _link ?? throw new InvalidOperationException("Open the session first.");

    /// <summary>The link of this token, whatever its status; null when there is none (or its workspace was switched off).</summary>
    public async Task<ConnectLink?> OpenAsync(string token, CancellationToken ct)
    {
        if (token.Length is < 20 or > 100)
        {
            return null;
        }
        var hash = ConnectLink.HashOf(token);
        var found = await db.ConnectLinks.IgnoreQueryFilters([SkyLightDb.TenantFilter]).SingleOrDefaultAsync(l => l.TokenHash == hash, ct);
        if (found is null || await db.Workspaces.AsNoTracking().Where(w => w.Id == found.WorkspaceId && w.IsActive).Select(w => w.TimeZone)
                .SingleOrDefaultAsync(ct) is not { } zone)
        {
            return null;
        }
        workspace.Set(found.WorkspaceId, WorkspaceTime.FindZone(zone) ?? TimeZoneInfo.Utc);
        return _link = found;
    }

    /// <summary>Records the link used when the channel already runs on the account its page logged in.</summary>
    public Task NoteUseAsync(CancellationToken ct) => ConnectLinkUse.NoteAsync(db, Link, time, ct);

    /// <summary>Where the page stands now. Reading it lets a pending login's expiry or poll happen, as the status endpoint does.</summary>
    public async Task<PageState> StateAsync(CancellationToken ct, string? notice = null)
    {
        var link = Link;
        await ConnectLinkUse.NoteAsync(db, link, time, ct);
        if (link.UsedAt is not null)
        {
            return new PageState(Screens.Success) { ChannelId = link.ChannelId, RedirectUrl = SuccessUrl(link) };
        }
        var now = time.GetUtcNow();
        if (link.Status(now) is ConnectLinkStatuses.Expired or ConnectLinkStatuses.Revoked)
        {
            return Unusable(link, now);
        }
        var state = await LoginStateAsync(link, now, ct);
        return state with { Notice = notice ?? state.Notice, CancelUrl = FailureUrl(link, "cancelled") };
    }

    /// <summary>The page of a link that no longer works, with where to send the user back to.</summary>
    public static PageState Unusable(ConnectLink link, DateTimeOffset now)
    {
        var status = link.Status(now);
        return new PageState(Screens.Invalid, $"link_{status}") { RedirectUrl = FailureUrl(link, $"link_{status}"), ChannelId = link.ChannelId };
    }

    private async Task<PageState> LoginStateAsync(ConnectLink link, DateTimeOffset now, CancellationToken ct)
    {
        var qr = link.ChannelType != ChannelTypes.Instagram;
        await FollowPendingLoginAsync(link, ct);
        if (link.UnipileAccountId is not { } accountId)
        {
            return new PageState(qr ? Screens.Loading : Screens.Login);
        }
        // lets an expired attempt end and a pending one be polled at Unipile, then reads what that decided
        if (await services.GetRequiredService<ChannelStatusReader>().ReadAsync(link.ChannelType, accountId, ct) is { Completed: true })
        {
            await ConnectLinkUse.NoteAsync(db, link, time, ct);
            return new PageState(Screens.Success) { ChannelId = link.ChannelId, RedirectUrl = SuccessUrl(link) };
        }
        var attempt = await db.ConnectAttempts.AsNoTracking().Where(a => a.ChannelType == link.ChannelType && a.UnipileAccountId == accountId)
            .OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
        if (attempt is { IsPending: true } && attempt.ExpiresAt > now)
        {
            var expiresIn = (int)Math.Ceiling((attempt.ExpiresAt - now).TotalSeconds);
            if (qr)
            {
                return new PageState(Screens.Qr) { QrImage = attempt.QrCode is { } code ? QrImages.PngDataUrl(code) : null, ExpiresInSeconds = expiresIn };
            }
            var resendAt = attempt.LastResendAt + channelsOptions.Value.ResendCooldown;
            return new PageState(Screens.Code)
            {
                Round = link.CodeRounds + 1, ExpiresInSeconds = expiresIn,
                ResendInSeconds = resendAt > now ? (int)Math.Ceiling((resendAt.Value - now).TotalSeconds) : 0,
            };
        }
        if (!qr)
        {
            return new PageState(Screens.Login, attempt is null ? null : Notices.LoginExpired);
        }
        // ended: by its time running out, or otherwise (replaced, refused by Unipile)
        return attempt is null || attempt.EndedAt is null || attempt.EndedAt >= attempt.ExpiresAt
            ? new PageState(Screens.Expired)
            : new PageState(Screens.Error, Notices.Failed);
    }

    /// <summary>
    /// The page shows the login pending on the link's channel type, whoever started it since the link was made: the page
    /// itself (whose own record of the account lands only after the attempt and its event committed, so a stream that
    /// reads the state on that event would otherwise miss it), another window of it, or the integrator through the API.
    /// </summary>
    private async Task FollowPendingLoginAsync(ConnectLink link, CancellationToken ct)
    {
        var pending = await db.ConnectAttempts.AsNoTracking()
            .Where(a => a.ChannelType == link.ChannelType && a.State == AttemptStates.Pending && a.StartedAt >= link.CreatedAt)
            .OrderByDescending(a => a.Id).Select(a => a.UnipileAccountId).FirstOrDefaultAsync(ct);
        if (pending is not null && pending != link.UnipileAccountId)
        {
            await RememberAccountAsync(pending, ct);
        }
    }

    /// <summary>WhatsApp/Telegram: the pending QR of this link, or a new login when there is none (<paramref name="current"/>: the page's state now).</summary>
    public async Task<PageState> StartQrAsync(PageState current, CancellationToken ct)
    {
        if (current.Screen is not (Screens.Loading or Screens.Expired or Screens.Error))
        {
            return current;
        }
        try
        {
            if (await services.GetRequiredService<QrConnector>().ConnectAsync(Link.ChannelType, ct) is not { } attempt)
            {
                return current with { Screen = Screens.Error, Notice = Notices.AlreadyConnected };
            }
            await RememberAccountAsync(attempt.UnipileAccountId, ct);
        }
        catch (UnipileException)
        {
            return current with { Screen = Screens.Error, Notice = Notices.Unavailable };
        }
        catch (ConcurrentChangeException)
        {
            // another tab or an API connect changed the channel meanwhile: show the login that won, if any
        }
        return await StateAsync(ct);
    }

    /// <summary>Instagram: the username and password, once; the password goes to Unipile and nowhere else.</summary>
    public async Task<PageState> LogInAsync(string username, string password, CancellationToken ct)
    {
        if (!await TryAsync(password: true, ct))
        {
            return await StateAsync(ct, Notices.TooManyTries);
        }
        InstagramStep step;
        try
        {
            step = await services.GetRequiredService<InstagramConnector>().ConnectAsync(username, password, "SA", ct);
        }
        catch (UnipileException)
        {
            return await StateAsync(ct, Notices.Unavailable);
        }
        if ((step.Attempt?.UnipileAccountId ?? step.Channel?.UnipileAccountId) is { } accountId)
        {
            await RememberAccountAsync(accountId, ct);
        }
        return await StateAsync(ct, step.Kind switch
        {
            InstagramStepKind.InvalidCredentials => Notices.WrongPassword,
            InstagramStepKind.UnsupportedCheckpoint => step.Checkpoint == "CAPTCHA" ? Notices.Captcha : Notices.CheckpointUnsupported,
            InstagramStepKind.AlreadyConnected => Notices.AlreadyConnected,
            InstagramStepKind.CodeRequired or InstagramStepKind.Connected => null,
            _ => Notices.Failed,
        });
    }

    /// <summary>Instagram: one verification code of the current round.</summary>
    public async Task<PageState> SolveAsync(string code, CancellationToken ct)
    {
        if (Link.UnipileAccountId is not { } accountId)
        {
            return await StateAsync(ct);
        }
        if (!await TryAsync(password: false, ct))
        {
            return await StateAsync(ct, Notices.TooManyTries);
        }
        InstagramStep step;
        try
        {
            step = await services.GetRequiredService<InstagramConnector>().SolveAsync(accountId, code, ct);
        }
        catch (UnipileException)
        {
            return await StateAsync(ct, Notices.Unavailable);
        }
        if (step.Kind == InstagramStepKind.AnotherRound)
        {
            await db.ConnectLinks.Where(l => l.Id == Link.Id).ExecuteUpdateAsync(s => s.SetProperty(l => l.CodeRounds, l => l.CodeRounds + 1), ct);
            Link.CodeRounds++;
        }
        return await StateAsync(ct, step.Kind switch
        {
            InstagramStepKind.AnotherRound => Notices.AnotherRound,
            InstagramStepKind.InvalidCode => Notices.WrongCode,
            InstagramStepKind.UnsupportedCheckpoint => step.Checkpoint == "CAPTCHA" ? Notices.Captcha : Notices.CheckpointUnsupported,
            InstagramStepKind.Connected => null,
            _ => Notices.LoginExpired,
        });
    }

    /// <summary>Instagram: sends the code again, at most once per cooldown (shared with the API's resend).</summary>
    public async Task<PageState> ResendAsync(CancellationToken ct)
    {
        if (Link.UnipileAccountId is not { } accountId)
        {
            return await StateAsync(ct);
        }
        try
        {
            var step = await services.GetRequiredService<InstagramConnector>().ResendAsync(accountId, ct);
            return await StateAsync(ct, step.Kind switch
            {
                InstagramStepKind.Resent => Notices.Resent,
                InstagramStepKind.Cooldown => Notices.ResendCooldown,
                _ => null,
            });
        }
        catch (UnipileException)
        {
            return await StateAsync(ct, Notices.Unavailable);
        }
    }

    private async Task RememberAccountAsync(string accountId, CancellationToken ct)
    {
        // a new login starts its verification rounds again; the same one (noted twice) keeps its count
        await db.ConnectLinks.Where(l => l.Id == Link.Id && l.UnipileAccountId != accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UnipileAccountId, accountId).SetProperty(l => l.CodeRounds, 0), ct);
        if (Link.UnipileAccountId != accountId)
        {
            Link.UnipileAccountId = accountId;
            Link.CodeRounds = 0;
        }
    }

    /// <summary>
    /// Counts one password or code submission against the link's window (every node shares the count: it is the link's
    /// row); false once the window's tries are used up.
    /// </summary>
    private async Task<bool> TryAsync(bool password, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var windowStart = now - options.Value.TriesWindow;
        var id = Link.Id;
        await db.ConnectLinks.Where(l => l.Id == id && l.TriesWindowStartedAt <= windowStart)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.TriesWindowStartedAt, now).SetProperty(l => l.PasswordTries, 0).SetProperty(l => l.CodeTries, 0), ct);
        var limit = password ? options.Value.PasswordTries : options.Value.CodeTries;
        var allowed = password
            ? await db.ConnectLinks.Where(l => l.Id == id && l.PasswordTries < limit).ExecuteUpdateAsync(s => s.SetProperty(l => l.PasswordTries, l => l.PasswordTries + 1), ct) == 1
            : await db.ConnectLinks.Where(l => l.Id == id && l.CodeTries < limit).ExecuteUpdateAsync(s => s.SetProperty(l => l.CodeTries, l => l.CodeTries + 1), ct) == 1;
        if (!allowed)
        {
            services.GetRequiredService<Observability.SkyLightMetrics>().RateLimitRefused(password ? "connect_password_tries" : "connect_code_tries");
        }
        return allowed;
    }

    private static string? SuccessUrl(ConnectLink link) => link.SuccessRedirectUrl is { } url
        ? QueryHelpers.AddQueryString(url, Parameters(link, ("channel_id", link.ChannelId?.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        : null;

    private static string? FailureUrl(ConnectLink link, string error) => link.FailureRedirectUrl is { } url
        ? QueryHelpers.AddQueryString(url, Parameters(link, ("error", error)))
        : null;

    private static IEnumerable<KeyValuePair<string, string?>> Parameters(ConnectLink link, (string Name, string? Value) outcome)
    {
        if (link.State is { } state)
        {
            yield return new("state", state);
        }
        yield return new(outcome.Name, outcome.Value);
    }
}
