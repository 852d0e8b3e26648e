using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Webhooks;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Connect;

/// <summary>Connect links: the integrator creates one per end user and channel, sends its URL, and may revoke it.</summary>
internal static class ConnectLinksApi
{
    private const string NotFoundMessage = "No connect link with this id was found.";
    private const int MinLifetime = 60;
    private const int MaxLifetime = 7 * 24 * 3600;
    private const int DefaultLifetime = 3600;

    public static RouteGroupBuilder MapConnectLinks(this RouteGroupBuilder api)
    {
        var links = api.MapGroup("/channels/connect-links").WithTags("Connect links");
        links.MapPost("/", Create).WithName("CreateConnectLink")
            .WithSummary("A link to the hosted connect page for one channel type; its url is shown only in this answer.")
            .Errors(409, 422);
        links.MapGet("/{id:guid}", Get).WithName("GetConnectLink").WithSummary("The link's status: active, expired, revoked or used.").Errors(404);
        links.MapDelete("/{id:guid}", Revoke).WithName("RevokeConnectLink").WithSummary("Revokes the link: its page stops working at once.").Errors(404);
        return links;
    }

    private static async Task<Results<Created<Envelope<ConnectLinkResponse>>, ProblemHttpResult, ValidationProblem>> Create(
        CreateConnectLinkRequest request, SkyLightDb db, CurrentWorkspace workspace, HttpContext http, IOptions<ConnectOptions> options,
        IOptions<SkyLightOptions> service, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ChannelTypes.All.Contains(request.Type))
        {
            errors["type"] = [$"The type must be one of: {string.Join(", ", ChannelTypes.All)}."];
        }
        CheckRedirect(request.SuccessRedirectUrl, "success_redirect_url", errors);
        CheckRedirect(request.FailureRedirectUrl, "failure_redirect_url", errors);
        if (request.ExpiresInSeconds is < MinLifetime or > MaxLifetime)
        {
            errors["expires_in_seconds"] = [$"The expires_in_seconds must be from {MinLifetime} to {MaxLifetime} (7 days)."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var type = request.Type!;
        if (await db.Channels.AnyAsync(c => c.Type == type && c.IsConnected, ct))
        {
            return ApiErrors.Conflict($"{ChannelNames.Display(type)} is already connected. Disconnect it first.");
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // the workspace's row as a lock: two creates at once count one after the other, so the limit holds
        await db.Workspaces.Where(w => w.Id == workspace.Id).ExecuteUpdateAsync(s => s.SetProperty(w => w.Name, w => w.Name), ct);
        var limit = options.Value.MaxActiveLinksPerWorkspace;
        if (await db.ConnectLinks.CountAsync(l => l.UsedAt == null && l.RevokedAt == null && l.ExpiresAt > now, ct) >= limit)
        {
            return ApiErrors.Unprocessable($"A workspace can have at most {limit} active connect links. Revoke one first, or let them expire.");
        }
        var token = ConnectLink.NewToken();
        var link = db.ConnectLinks.Add(new ConnectLink
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspace.Id, ChannelType = type, TokenHash = ConnectLink.HashOf(token),
            SuccessRedirectUrl = request.SuccessRedirectUrl, FailureRedirectUrl = request.FailureRedirectUrl, State = request.State,
            CreatedAt = now, ExpiresAt = now.AddSeconds(request.ExpiresInSeconds ?? DefaultLifetime), TriesWindowStartedAt = now,
        }).Entity;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        var pageBase = options.Value.PageBaseUrl ?? service.Value.PublicBaseUrl ?? $"{http.Request.Scheme}://{http.Request.Host}";
        var url = $"{pageBase.TrimEnd('/')}/connect/{token}";
        return TypedResults.Created($"/api/v1/channels/connect-links/{link.Id}",
            Envelope.Of(ConnectLinkResponse.From(link, now, workspace.TimeZone, url), "Connect link created. Send its url to the account's owner: it is not shown again."));
    }

    private static async Task<Results<Ok<Envelope<ConnectLinkResponse>>, ProblemHttpResult>> Get(
        Guid id, SkyLightDb db, CurrentWorkspace workspace, TimeProvider time, CancellationToken ct)
    {
        if (await db.ConnectLinks.SingleOrDefaultAsync(l => l.Id == id, ct) is not { } link)
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        await ConnectLinkUse.NoteAsync(db, link, time, ct);
        return TypedResults.Ok(Envelope.Of(ConnectLinkResponse.From(link, time.GetUtcNow(), workspace.TimeZone)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(Guid id, SkyLightDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (await db.ConnectLinks.Where(l => l.Id == id && l.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(l => l.RevokedAt, now), ct) == 0 &&
            !await db.ConnectLinks.AnyAsync(l => l.Id == id, ct))
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        return TypedResults.NoContent();
    }

    private static void CheckRedirect(string? url, string field, Dictionary<string, string[]> errors)
    {
        if (url is null)
        {
            return;
        }
        // a control character (a NUL, a newline) is refused before the URL parser, which would take some of them
        var valid = !url.Any(char.IsControl) && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.UserInfo.Length == 0 && !string.IsNullOrEmpty(uri.Host);
        if (!valid)
        {
            errors[field] = [$"The {field} must be an absolute http or https URL."];
        }
    }
}

/// <summary>A link as the API shows it; <c>url</c> only when it was just created (the token is kept as a hash).</summary>
internal sealed record ConnectLinkResponse(
    Guid Id, string Type, string? Url, string Status, string? State, string? SuccessRedirectUrl, string? FailureRedirectUrl, int? ChannelId,
    string ExpiresAt, string CreatedAt, string? RevokedAt, string? UsedAt)
{
    public static ConnectLinkResponse From(ConnectLink link, DateTimeOffset now, TimeZoneInfo zone, string? url = null) =>
        new(link.Id, link.ChannelType, url, link.Status(now), link.State, link.SuccessRedirectUrl, link.FailureRedirectUrl, link.ChannelId,
            WorkspaceTime.Format(link.ExpiresAt, zone), WorkspaceTime.Format(link.CreatedAt, zone), WorkspaceTime.Format(link.RevokedAt, zone),
            WorkspaceTime.Format(link.UsedAt, zone));
}

// public: the .NET 10 validation generator only inspects public request types
public sealed record CreateConnectLinkRequest
{
    [Required]
    public string? Type { get; init; }

    [StringLength(2048)]
    public string? SuccessRedirectUrl { get; init; }

    [StringLength(2048)]
    public string? FailureRedirectUrl { get; init; }

    public int? ExpiresInSeconds { get; init; }

    /// <summary>Anything the integrator wants back on the redirect, e.g. its own user id.</summary>
    [StringLength(500), PlainText]
    public string? State { get; init; }
}
