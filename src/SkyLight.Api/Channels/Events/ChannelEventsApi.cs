using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// The channel timeline: the workspace's journal, newest first in pages, or in order after an event id for clients
/// that follow it.
/// </summary>
internal static class ChannelEventsApi
{
    /// <summary>Tags the timeline's read of its page (after the count), so a test can tell when a client has read it.</summary>
    public const string ListTag = "timeline: list events";

    public static void MapChannelEvents(this RouteGroupBuilder channels)
    {
        channels.MapGet("/events", ([FromQuery] string? type, [FromQuery] string? page, [FromQuery(Name = "per_page")] string? perPage,
                [FromQuery] string? after, SkyLightDb db, CurrentWorkspace workspace, CancellationToken ct) =>
                List(type, page, perPage, after, db, workspace, ct))
            .WithName("ListChannelEvents")
            .WithSummary("The timeline of every channel: newest first with paging, or oldest first after an event id (?after=).")
            .Errors(422);
        foreach (var type in ChannelTypes.All)
        {
            channels.MapGet($"/{type}/events", ([FromQuery] string? page, [FromQuery(Name = "per_page")] string? perPage, [FromQuery] string? after,
                    SkyLightDb db, CurrentWorkspace workspace, CancellationToken ct) => List(type, page, perPage, after, db, workspace, ct))
                .WithName($"List{ChannelNames.Display(type)}Events")
                .WithSummary($"The {ChannelNames.Display(type)} channel's timeline: newest first with paging, or oldest first after an event id (?after=).")
                .Errors(422);
        }
    }

    private static async Task<Results<Ok<ChannelEventPage>, ValidationProblem>> List(
        string? type, string? page, string? perPage, string? after, SkyLightDb db, CurrentWorkspace workspace, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        CheckType(type, errors);
        var paging = Paging.Read(page, perPage, errors);
        var afterId = ReadEventId(after, "after", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var query = db.ChannelEvents.AsNoTracking().Where(e => type == null || e.ChannelType == type);
        query = afterId is { } from ? query.Where(e => e.Id > from).OrderBy(e => e.Id) : query.OrderByDescending(e => e.Id);
        var total = await query.CountAsync(ct);
        var items = await query.TagWith(ListTag).Skip(paging.Skip).Take(paging.PerPage).ToListAsync(ct);
        return TypedResults.Ok(new ChannelEventPage([.. items.Select(e => ChannelEventResponse.From(e, workspace.TimeZone))], paging.Meta(total)));
    }
    /// <summary>A channel type filter: absent, or one of the types (else an error on <c>type</c>).</summary>
    internal static void CheckType(string? type, Dictionary<string, string[]> errors)
    {
        if (type is not null && !ChannelTypes.All.Contains(type))
        {
            errors["type"] = [$"The type must be one of: {string.Join(", ", ChannelTypes.All)}."];
        }
    }

    /// <summary>An event id given as text (a query value, Last-Event-ID): a whole number from 0, else an error on its field.</summary>
    internal static long? ReadEventId(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }
        errors[field] = [$"The {field} must be an event id: a whole number from 0."];
        return null;
    }
}

/// <summary>One event of the timeline, as the API and (later) webhooks and streams show it.</summary>
internal sealed record ChannelEventResponse(
    long Id, string Type, string ChannelType, int ChannelId, string? AccountId, string? Reason, string Source,
    string? PreviousSyncStatus, bool? PreviousIsConnected, string? SyncStatus, bool IsConnected, string OccurredAt)
{
    public static ChannelEventResponse From(ChannelEvent e, TimeZoneInfo zone) =>
        new(e.Id, EventNames.Of(e.Type), e.ChannelType, e.ChannelId, e.UnipileAccountId, e.Reason is { } reason ? EventNames.Of(reason) : null,
            EventNames.Of(e.Source), e.PreviousSyncStatus, e.PreviousIsConnected, e.SyncStatus, e.IsConnected, WorkspaceTime.Format(e.OccurredAt, zone));
}

/// <summary>A page of the timeline: the envelope plus <c>meta</c>.</summary>
internal sealed record ChannelEventPage(IReadOnlyList<ChannelEventResponse> Data, PageMeta Meta)
{
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public bool Success { get; } = true;
}
