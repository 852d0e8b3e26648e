using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Campaigns;

/// <summary>
/// Outreach campaigns, lifecycle only: draft → running ⇄ paused, cancelled from any state that is not final.
/// Sending messages is outside this service.
/// </summary>
internal static class CampaignsApi
{
    private static readonly Dictionary<string, (string[] From, string To)> Transitions = new()
    {
        ["start"] = ([CampaignStatuses.Draft, CampaignStatuses.Paused], CampaignStatuses.Running),
        ["pause"] = ([CampaignStatuses.Running], CampaignStatuses.Paused),
        ["resume"] = ([CampaignStatuses.Paused], CampaignStatuses.Running),
        ["cancel"] = ([CampaignStatuses.Draft, CampaignStatuses.Running, CampaignStatuses.Paused], CampaignStatuses.Cancelled),
    };

    public static RouteGroupBuilder MapCampaigns(this RouteGroupBuilder api)
    {
        var campaigns = api.MapGroup("/campaigns").WithTags("Campaigns");
        campaigns.MapPost("/", Create).WithName("CreateCampaign").WithSummary("Creates a draft campaign on one of the workspace's channels.");
        campaigns.MapGet("/", List).WithName("ListCampaigns").WithSummary("Lists campaigns, newest first, with paging.").Errors(422);
        campaigns.MapGet("/{id:int}", Get).WithName("GetCampaign").Errors(404);
        foreach (var (action, transition) in Transitions)
        {
            campaigns.MapPost($"/{{id:int}}/{action}", (int id, SkyLightDb db, TimeProvider time, CancellationToken ct) => Move(id, action, transition.From, transition.To, db, time, ct))
                .WithName($"{CultureInfo.InvariantCulture.TextInfo.ToTitleCase(action)}Campaign")
                .WithSummary($"{string.Join(" or ", transition.From)} → {transition.To}.")
                .Errors(404, 409, 422);
        }
        return campaigns;
    }

    private static async Task<Results<Created<Envelope<CampaignResponse>>, ValidationProblem>> Create(
        CreateCampaignRequest request, SkyLightDb db, CurrentWorkspace workspace, TimeProvider time, CancellationToken ct)
    {
        if (!await db.Channels.AnyAsync(c => c.Id == request.ChannelId, ct))
        {
            return ApiErrors.Invalid("channel_id", "The selected channel does not exist in this workspace.");
        }
        var now = time.GetUtcNow();
        var campaign = db.Campaigns.Add(new Campaign
        {
            WorkspaceId = workspace.Id, Name = request.Name.Trim(), ChannelId = request.ChannelId!.Value, CreatedAt = now, UpdatedAt = now,
        }).Entity;
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/campaigns/{campaign.Id}", Envelope.Of(CampaignResponse.From(campaign), "Campaign created as a draft."));
    }

    // paging values are read as text: a number that does not parse or fit is then a 422 on its field, not a 400
    private static async Task<Results<Ok<CampaignPage>, ValidationProblem>> List(
        [FromQuery] string? status, [FromQuery] string? page, [FromQuery(Name = "per_page")] string? perPage, SkyLightDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !CampaignStatuses.All.Contains(status))
        {
            errors["status"] = [$"The status must be one of: {string.Join(", ", CampaignStatuses.All)}."];
        }
        var paging = Paging.Read(page, perPage, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var query = db.Campaigns.AsNoTracking().Where(c => status == null || c.Status == status);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(c => c.Id).Skip(paging.Skip).Take(paging.PerPage).ToListAsync(ct);
        return TypedResults.Ok(new CampaignPage([.. items.Select(CampaignResponse.From)], paging.Meta(total)));
    }

    private static async Task<Results<Ok<Envelope<CampaignResponse>>, ProblemHttpResult>> Get(int id, SkyLightDb db, CancellationToken ct) =>
        await db.Campaigns.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct) is { } campaign
            ? TypedResults.Ok(Envelope.Of(CampaignResponse.From(campaign)))
            : ApiErrors.NotFound("Campaign not found.");

    private static async Task<Results<Ok<Envelope<CampaignResponse>>, ProblemHttpResult>> Move(
        int id, string action, string[] from, string to, SkyLightDb db, TimeProvider time, CancellationToken ct)
    {
        var campaign = await db.Campaigns.SingleOrDefaultAsync(c => c.Id == id, ct);
        if (campaign is null)
        {
            return ApiErrors.NotFound("Campaign not found.");
        }
        if (!from.Contains(campaign.Status))
        {
            return ApiErrors.Unprocessable($"A {campaign.Status} campaign cannot {action}; only a {string.Join(" or ", from)} one can.");
        }
        if (to == CampaignStatuses.Running && !await db.Channels.AnyAsync(c => c.Id == campaign.ChannelId && c.IsConnected, ct))
        {
            return ApiErrors.Unprocessable("The campaign's channel is not connected. Connect it before starting the campaign.");
        }

        // conditional on the status we read, so two concurrent transitions cannot both win
        var now = time.GetUtcNow();
        var needsChannel = to == CampaignStatuses.Running;
        var moved = await db.Campaigns.Where(c => c.Id == id && c.Status == campaign.Status &&
                (!needsChannel || db.Channels.Any(ch => ch.Id == c.ChannelId && ch.IsConnected)))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, to).SetProperty(c => c.UpdatedAt, now), ct);
        if (moved == 0)
        {
            return ApiErrors.Conflict("The campaign changed while this request ran. Fetch it and try again.");
        }
        await db.Entry(campaign).ReloadAsync(ct);
        return TypedResults.Ok(Envelope.Of(CampaignResponse.From(campaign), $"Campaign {to}."));
    }
}

public sealed record CreateCampaignRequest
{
    [Required, StringLength(200, MinimumLength = 1), PlainText]
    public string Name { get; init; } = "";

    [Required, Range(1, int.MaxValue)]
    public int? ChannelId { get; init; }
}

internal sealed record CampaignResponse(int Id, string Name, int ChannelId, string Status, string CreatedAt, string UpdatedAt)
{
    public static CampaignResponse From(Campaign campaign) =>
        new(campaign.Id, campaign.Name, campaign.ChannelId, campaign.Status, Workspaces.WorkspaceTime.Utc(campaign.CreatedAt),
            Workspaces.WorkspaceTime.Utc(campaign.UpdatedAt));
}

/// <summary>SkyLight's paginated list: the envelope plus <c>meta</c>.</summary>
internal sealed record CampaignPage(IReadOnlyList<CampaignResponse> Data, PageMeta Meta)
{
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public bool Success { get; } = true;
}
