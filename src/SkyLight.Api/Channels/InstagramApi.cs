using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Channels;

/// <summary>Instagram: username and password, then verification codes inline; status from local records.</summary>
internal static class InstagramApi
{
    private const string CodeSent = "A verification code has been sent. Submit it to POST /channels/instagram/2fa.";
    private const string AnotherRound = "Additional verification required. Submit your code again.";
    private const string ConnectedBy2fa = "Instagram connected successfully. Account is syncing.";
    private const string Expired = "This verification has expired. Connect Instagram again to get a new code.";

    public static void MapInstagram(this RouteGroupBuilder channels)
    {
        channels.MapPost("/instagram/connect", Connect).WithName("ConnectInstagram")
            .WithSummary("Logs in with username and password; answers the channel, or requires_2fa with the checkpoint to solve.")
            .Errors(409, 422, 502, 503, 504);
        channels.MapPost("/instagram/2fa", Solve).WithName("SolveInstagram2fa")
            .WithSummary("Submits a verification code: the channel, or requires_2fa again for another round.")
            .Errors(404, 502, 503, 504);
        channels.MapPost("/instagram/2fa/resend", Resend).WithName("ResendInstagram2fa")
            .WithSummary("Sends the verification code again; at most once every 30 seconds.")
            .Errors(404, 502, 503, 504);
        channels.MapGet("/instagram/status", Status).WithName("GetInstagramStatus")
            .WithSummary("The Instagram channel from local records; refresh pulls Unipile's view.")
            .Errors(404);
    }

    private static async Task<Results<Ok<Envelope<ChannelResponse>>, Ok<Envelope<CodeRequired>>, ProblemHttpResult>> Connect(
        InstagramConnectRequest request, InstagramConnector connector, CurrentWorkspace workspace, CancellationToken ct)
    {
        var step = await connector.ConnectAsync(request.Username!.Trim(), request.Password!, (request.Country ?? "SA").ToUpperInvariant(), ct);
        return step.Kind switch
        {
            InstagramStepKind.CodeRequired => CodeRequiredResult(step, CodeSent),
            InstagramStepKind.AlreadyConnected => ApiErrors.Conflict("Instagram is already connected. Disconnect it first."),
            InstagramStepKind.InvalidCredentials => ApiErrors.Unprocessable("The Instagram username or password is incorrect."),
            InstagramStepKind.UnsupportedCheckpoint => ApiErrors.Unprocessable(UnsupportedCheckpoint(step.Checkpoint!)),
            InstagramStepKind.Connected => TypedResults.Ok(Envelope.Of(ChannelResponse.From(step.Channel!, workspace.TimeZone))),
            _ => ApiErrors.Conflict(ConcurrentChangeException.Text),   // disconnected while logging in
        };
    }

    private static async Task<Results<Ok<Envelope<ChannelResponse>>, Ok<Envelope<CodeRequired>>, ProblemHttpResult>> Solve(
        InstagramCodeRequest request, InstagramConnector connector, CurrentWorkspace workspace, CancellationToken ct)
    {
        var step = await connector.SolveAsync(request.AccountId!, request.Code!.Trim(), ct);
        return step.Kind switch
        {
            InstagramStepKind.AnotherRound => CodeRequiredResult(step, AnotherRound),
            InstagramStepKind.Connected => TypedResults.Ok(Envelope.Of(ChannelResponse.From(step.Channel!, workspace.TimeZone), ConnectedBy2fa)),
            InstagramStepKind.InvalidCode => ApiErrors.Unprocessable("Invalid verification code. Check the code and try again."),
            InstagramStepKind.UnsupportedCheckpoint => ApiErrors.Unprocessable(UnsupportedCheckpoint(step.Checkpoint!)),
            InstagramStepKind.NotFound or InstagramStepKind.Disconnected => NoSuchAttempt(),
            _ => ApiErrors.Unprocessable(Expired),
        };
    }

    private static async Task<Results<Ok<MessageEnvelope>, ProblemHttpResult>> Resend(
        InstagramResendRequest request, InstagramConnector connector, CancellationToken ct)
    {
        var step = await connector.ResendAsync(request.AccountId!, ct);
        return step.Kind switch
        {
            InstagramStepKind.Resent => TypedResults.Ok(new MessageEnvelope("Verification code resent successfully.")),
            InstagramStepKind.Cooldown => ApiErrors.TooManyRequests($"A code was resent moments ago. Wait {step.RetryAfter} seconds before asking again.", step.RetryAfter),
            InstagramStepKind.NotFound => NoSuchAttempt(),
            InstagramStepKind.Connected => ApiErrors.Unprocessable("Instagram is already connected: there is no code to resend."),
            _ => ApiErrors.Unprocessable(Expired),
        };
    }

    private static async Task<Results<Ok<Envelope<ChannelResponse>>, ProblemHttpResult>> Status(SkyLightDb db, CurrentWorkspace workspace, CancellationToken ct) =>
        await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == ChannelTypes.Instagram, ct) is { } channel
            ? TypedResults.Ok(Envelope.Of(ChannelResponse.From(channel, workspace.TimeZone)))
            : ApiErrors.NotFound("No Instagram channel is connected.");

    private static Ok<Envelope<CodeRequired>> CodeRequiredResult(InstagramStep step, string message) =>
        TypedResults.Ok(Envelope.Of(new CodeRequired(true, step.Attempt!.UnipileAccountId, step.Checkpoint ?? step.Attempt.CheckpointType ?? "OTP"), message));

    private static ProblemHttpResult NoSuchAttempt() => ApiErrors.NotFound("No Instagram connection attempt was found for this account_id.");

    private static string UnsupportedCheckpoint(string checkpoint) => checkpoint == "CAPTCHA"
        ? "Instagram asked for a CAPTCHA, which cannot be solved through this API. Log in to this account once in the Instagram app " +
          "or at instagram.com to clear the security check, then connect again."
        : $"Instagram asked for a {checkpoint} security check, which cannot be completed through this API. Log in to this account " +
          "once in the Instagram app or at instagram.com to clear it, then connect again.";
}

/// <summary>The seed's "2FA required" answer.</summary>
internal sealed record CodeRequired([property: JsonPropertyName("requires_2fa")] bool Requires2fa, string AccountId, string CheckpointType);

// public: the .NET 10 validation generator only inspects public request types
public sealed record InstagramConnectRequest
{
    [Required, StringLength(100), PlainText]
    public string? Username { get; init; }

    [Required, StringLength(200), PlainText]
    public string? Password { get; init; }

    [CountryCode]
    public string? Country { get; init; }

    // the password must never reach a log line, even through a record's printed form
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Username = ").Append(Username).Append(", Country = ").Append(Country);
        return true;
    }
}

public sealed record InstagramCodeRequest
{
    [Required, StringLength(200), PlainText]
    public string? AccountId { get; init; }

    [Required, StringLength(32), PlainText]
    public string? Code { get; init; }
}

public sealed record InstagramResendRequest
{
    [Required, StringLength(200), PlainText]
    public string? AccountId { get; init; }
}
