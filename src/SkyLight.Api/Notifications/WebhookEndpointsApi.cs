using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Notifications;

/// <summary>The workspace's outgoing webhook endpoints, their delivery log, replays, tests and secret rotation.</summary>
internal static class WebhookEndpointsApi
{
    private const string NotFoundMessage = "Webhook endpoint not found.";
    private const string DeliveryNotFoundMessage = "Delivery not found.";
    private const string SwitchedOffMessage = "The endpoint is switched off. Switch it on (is_active: true) first.";

    /// <summary>Tags the rotation's read of the endpoint, so a test can hold one rotation there while another commits.</summary>
    public const string RotateReadTag = "rotate-secret: read the endpoint";

    public static RouteGroupBuilder MapWebhookEndpoints(this RouteGroupBuilder api)
    {
        var webhooks = api.MapGroup("/webhooks").WithTags("Webhooks");
        webhooks.MapPost("/", Create).WithName("CreateWebhookEndpoint")
            .WithSummary("Registers an endpoint for channel events; the answer carries its signing secret, shown this once.").Errors(422);
        webhooks.MapGet("/", List).WithName("ListWebhookEndpoints").WithSummary("The workspace's endpoints, newest first, with paging.").Errors(422);
        webhooks.MapGet("/{id:int}", Get).WithName("GetWebhookEndpoint").Errors(404);
        webhooks.MapPatch("/{id:int}", Update).WithName("UpdateWebhookEndpoint")
            .WithSummary("Changes name, url, events or is_active; switching it on again resumes its pending deliveries.").Errors(404, 409, 422);
        webhooks.MapDelete("/{id:int}", Delete).WithName("DeleteWebhookEndpoint").WithSummary("Deletes the endpoint and its delivery log.").Errors(404);
        webhooks.MapPost("/{id:int}/test", Test).WithName("TestWebhookEndpoint").WithSummary("Sends a webhook.test event now.").Errors(404, 422);
        webhooks.MapPost("/{id:int}/rotate-secret", RotateSecret).WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret, shown this once; the old one stops at once unless previous_secret_expires_in_seconds gives it a grace period.")
            .Errors(404, 409, 422);
        webhooks.MapGet("/{id:int}/deliveries", Deliveries).WithName("ListWebhookDeliveries")
            .WithSummary("The endpoint's deliveries, newest first, with paging; ?status=pending|delivered|failed.").Errors(404, 422);
        webhooks.MapGet("/{id:int}/deliveries/{delivery_id:guid}", Delivery).WithName("GetWebhookDelivery")
            .WithSummary("One delivery with its data and every attempt.").Errors(404);
        webhooks.MapPost("/{id:int}/deliveries/{delivery_id:guid}/redeliver", Redeliver).WithName("RedeliverWebhook")
            .WithSummary("Sends the delivery again now, with the same delivery id.").Errors(404, 409, 422);
        return webhooks;
    }

    private static async Task<Results<Created<Envelope<WebhookEndpointResponse>>, ValidationProblem>> Create(
        CreateWebhookEndpointRequest request, SkyLightDb db, CurrentWorkspace workspace, WebhookTargets targets, WebhookSecrets secrets,
        IOptions<WebhooksOptions> options, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var events = ReadEvents(request.Events, errors);
        RequireName(request.Name, errors);
        if (await targets.RefusalAsync(request.Url, ct) is { } refusal)
        {
            errors["url"] = [refusal];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var now = time.GetUtcNow();
        var secret = WebhookSecrets.New();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // the workspace's row as a lock: two creates at once count one after the other, so the limit holds
        await db.Workspaces.Where(w => w.Id == workspace.Id).ExecuteUpdateAsync(s => s.SetProperty(w => w.Name, w => w.Name), ct);
        if (await db.WebhookEndpoints.CountAsync(ct) >= options.Value.MaxEndpointsPerWorkspace)
        {
            return ApiErrors.Invalid("url", $"A workspace can have at most {options.Value.MaxEndpointsPerWorkspace} webhook endpoints. Delete one first.");
        }
        var endpoint = db.WebhookEndpoints.Add(new WebhookEndpoint
        {
            WorkspaceId = workspace.Id, Name = request.Name.Trim(), Url = request.Url, Events = string.Join(',', events!),
            ProtectedSecret = secrets.Protect(secret), CreatedAt = now, UpdatedAt = now,
        }).Entity;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return TypedResults.Created($"/api/v1/webhooks/{endpoint.Id}",
            Envelope.Of(WebhookEndpointResponse.From(endpoint, now, secret), "Webhook endpoint created. Keep its secret now: it is not shown again."));
    }

    private static async Task<Results<Ok<Page<WebhookEndpointResponse>>, ValidationProblem>> List(
        [FromQuery] string? page, [FromQuery(Name = "per_page")] string? perPage, SkyLightDb db, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = Paging.Read(page, perPage, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var total = await db.WebhookEndpoints.CountAsync(ct);
        var items = await db.WebhookEndpoints.AsNoTracking().OrderByDescending(e => e.Id).Skip(paging.Skip).Take(paging.PerPage).ToListAsync(ct);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new Page<WebhookEndpointResponse>([.. items.Select(e => WebhookEndpointResponse.From(e, now))], paging.Meta(total)));
    }

    private static async Task<Results<Ok<Envelope<WebhookEndpointResponse>>, ProblemHttpResult>> Get(int id, SkyLightDb db, TimeProvider time, CancellationToken ct) =>
        await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct) is { } endpoint
            ? TypedResults.Ok(Envelope.Of(WebhookEndpointResponse.From(endpoint, time.GetUtcNow())))
            : ApiErrors.NotFound(NotFoundMessage);

    private static async Task<Results<Ok<Envelope<WebhookEndpointResponse>>, ProblemHttpResult, ValidationProblem>> Update(
        int id, UpdateWebhookEndpointRequest request, SkyLightDb db, WebhookTargets targets, WebhookSender sender, TimeProvider time, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        var errors = new Dictionary<string, string[]>();
        var events = request.Events is null ? null : ReadEvents(request.Events, errors);
        if (request.Name is not null)
        {
            RequireName(request.Name, errors);
        }
        if (request.Url is not null && await targets.RefusalAsync(request.Url, ct) is { } refusal)
        {
            errors["url"] = [refusal];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = time.GetUtcNow();
        endpoint.Name = request.Name?.Trim() ?? endpoint.Name;
        endpoint.Url = request.Url ?? endpoint.Url;
        endpoint.Events = events is null ? endpoint.Events : string.Join(',', events);
        endpoint.UpdatedAt = now;
        var resumes = request.IsActive == true && !endpoint.IsActive;
        if (request.IsActive is { } active)
        {
            endpoint.IsActive = active;
            endpoint.DisabledReason = null;
            endpoint.FailingSince = null;
        }
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            if (await SaveAsync(db, id, ct) is { } lost)
            {
                return lost;
            }
            if (resumes)
            {
                // what waited while it was off is due now, with a fresh retry window
                await db.WebhookDeliveries.Where(d => d.EndpointId == id && d.DeliveredAt == null && d.SetAsideAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, now).SetProperty(d => d.RoundStartedAt, now).SetProperty(d => d.Attempts, 0), ct);
            }
            await transaction.CommitAsync(ct);
        }
        if (resumes)
        {
            sender.Wake();
        }
        return TypedResults.Ok(Envelope.Of(WebhookEndpointResponse.From(endpoint, now)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(int id, SkyLightDb db, CancellationToken ct) =>
        await db.WebhookEndpoints.Where(e => e.Id == id).ExecuteDeleteAsync(ct) == 1 ? TypedResults.NoContent() : ApiErrors.NotFound(NotFoundMessage);

    private static async Task<Results<Accepted<Envelope<WebhookDeliveryResponse>>, ProblemHttpResult>> Test(
        int id, SkyLightDb db, TimeProvider time, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        if (!endpoint.IsActive)
        {
            return ApiErrors.Unprocessable(SwitchedOffMessage);
        }
        var delivery = db.WebhookDeliveries.Add(DeliveryFanOut.New(endpoint, WebhookEventTypes.Test, null, WebhookPayloads.Test(id), time.GetUtcNow())).Entity;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            if (await StillThereAsync(db, id))
            {
                throw;
            }
            return ApiErrors.NotFound(NotFoundMessage);   // deleted while this request ran
        }
        // the commit of a new delivery wakes the sender (CommitSignals): it goes out now
        return TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries/{delivery.DeliveryId}",
            Envelope.Of(WebhookDeliveryResponse.From(delivery, 0), "Test event queued; its delivery shows the receiver's answer."));
    }

    private static async Task<Results<Ok<Envelope<WebhookEndpointResponse>>, ProblemHttpResult, ValidationProblem>> RotateSecret(
        int id, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] RotateSecretRequest? request, SkyLightDb db, WebhookSecrets secrets,
        TimeProvider time, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.TagWith(RotateReadTag).SingleOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        var now = time.GetUtcNow();
        var grace = TimeSpan.FromSeconds(request?.PreviousSecretExpiresInSeconds ?? 0);
        var secret = WebhookSecrets.New();
        endpoint.ProtectedPreviousSecret = grace > TimeSpan.Zero ? endpoint.ProtectedSecret : null;
        endpoint.PreviousSecretExpiresAt = grace > TimeSpan.Zero ? now + grace : null;
        endpoint.ProtectedSecret = secrets.Protect(secret);
        endpoint.UpdatedAt = now;
        if (await SaveAsync(db, id, ct) is { } lost)
        {
            return lost;   // another rotation won: this secret never took effect, so it is not handed out
        }
        return TypedResults.Ok(Envelope.Of(WebhookEndpointResponse.From(endpoint, now, secret),
            grace > TimeSpan.Zero ? "New secret made; deliveries carry both signatures until the previous one expires." : "New secret made; the previous one no longer signs."));
    }

    private static async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ProblemHttpResult, ValidationProblem>> Deliveries(
        int id, [FromQuery] string? status, [FromQuery] string? page, [FromQuery(Name = "per_page")] string? perPage, SkyLightDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !DeliveryStatuses.All.Contains(status))
        {
            errors["status"] = [$"The status must be one of: {string.Join(", ", DeliveryStatuses.All)}."];
        }
        var paging = Paging.Read(page, perPage, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        if (!await db.WebhookEndpoints.AnyAsync(e => e.Id == id, ct))
        {
            return ApiErrors.NotFound(NotFoundMessage);
        }
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        query = status switch
        {
            DeliveryStatuses.Delivered => query.Where(d => d.DeliveredAt != null),
            DeliveryStatuses.Failed => query.Where(d => d.SetAsideAt != null),
            DeliveryStatuses.Pending => query.Where(d => d.DeliveredAt == null && d.SetAsideAt == null),
            _ => query,
        };
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(d => d.Id).Skip(paging.Skip).Take(paging.PerPage)
            .Select(d => new { Delivery = d, Attempts = d.AttemptLog.Count }).ToListAsync(ct);
        return TypedResults.Ok(new Page<WebhookDeliveryResponse>([.. items.Select(i => WebhookDeliveryResponse.From(i.Delivery, i.Attempts))], paging.Meta(total)));
    }

    private static async Task<Results<Ok<Envelope<WebhookDeliveryResponse>>, ProblemHttpResult>> Delivery(int id, [FromRoute(Name = "delivery_id")] Guid deliveryId, SkyLightDb db, CancellationToken ct) =>
        await db.WebhookDeliveries.AsNoTracking().Include(d => d.AttemptLog).SingleOrDefaultAsync(d => d.EndpointId == id && d.DeliveryId == deliveryId, ct) is { } delivery
            ? TypedResults.Ok(Envelope.Of(WebhookDeliveryResponse.Detail(delivery)))
            : ApiErrors.NotFound(DeliveryNotFoundMessage);

    private static async Task<Results<Accepted<Envelope<WebhookDeliveryResponse>>, ProblemHttpResult>> Redeliver(
        int id, [FromRoute(Name = "delivery_id")] Guid deliveryId, SkyLightDb db, WebhookSender sender, TimeProvider time, CancellationToken ct)
    {
        var delivery = await db.WebhookDeliveries.AsNoTracking().Include(d => d.Endpoint).SingleOrDefaultAsync(d => d.EndpointId == id && d.DeliveryId == deliveryId, ct);
        if (delivery is null)
        {
            return ApiErrors.NotFound(DeliveryNotFoundMessage);
        }
        if (delivery.Endpoint is { IsActive: false })
        {
            return ApiErrors.Unprocessable(SwitchedOffMessage);
        }
        var now = time.GetUtcNow();
        // not while an attempt is under way: its outcome would overwrite the replay
        if (await db.WebhookDeliveries.Where(d => d.Id == delivery.Id && (d.LeasedUntil == null || d.LeasedUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.DeliveredAt, (DateTimeOffset?)null).SetProperty(d => d.SetAsideAt, (DateTimeOffset?)null)
                    .SetProperty(d => d.NextAttemptAt, now).SetProperty(d => d.RoundStartedAt, now).SetProperty(d => d.Attempts, 0), ct) == 0)
        {
            return ApiErrors.Conflict("The delivery is being attempted right now. Try again once the attempt is over.");
        }
        // read back before it is sent, so the answer always shows it pending
        var attempts = await db.WebhookDeliveryAttempts.CountAsync(a => a.DeliveryRowId == delivery.Id, ct);
        if (await db.WebhookDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.Id == delivery.Id, ct) is not { } replay)
        {
            return ApiErrors.NotFound(DeliveryNotFoundMessage);   // its endpoint was deleted meanwhile
        }
        sender.ProcessNow(delivery.Id);
        return TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries/{deliveryId}",
            Envelope.Of(WebhookDeliveryResponse.From(replay, attempts), "Delivery queued again, with the same delivery id."));
    }

    /// <summary>
    /// Saves the endpoint's change; when the row moved meanwhile, null is not returned but a 404 (deleted) or a 409 (changed:
    /// another rotation or edit committed first, so this one did not take effect).
    /// </summary>
    private static async Task<ProblemHttpResult?> SaveAsync(SkyLightDb db, int id, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return await StillThereAsync(db, id)
                ? ApiErrors.Conflict("The webhook endpoint changed while this request ran (its secret was rotated, say). Fetch it and try again.")
                : ApiErrors.NotFound(NotFoundMessage);
        }
    }

    private static async Task<bool> StillThereAsync(SkyLightDb db, int id)
    {
        db.ChangeTracker.Clear();
        return await db.WebhookEndpoints.AnyAsync(e => e.Id == id, CancellationToken.None);
    }

    private static void RequireName(string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors["name"] = ["The name must not be blank."];
        }
    }

    /// <summary>The subscribed event types, each known and listed once; null (with an error) when they are not.</summary>
    private static string[]? ReadEvents(IReadOnlyList<string?> events, Dictionary<string, string[]> errors)
    {
        var unknown = events.Where(e => e is null || !WebhookEventTypes.Subscribable.Contains(e)).ToList();
        if (events.Count == 0 || unknown.Count > 0)
        {
            errors["events"] = [events.Count == 0
                ? "The events must list at least one event type."
                : $"The events hold unknown type(s): {string.Join(", ", unknown.Select(e => e ?? "null"))}. Use: {string.Join(", ", WebhookEventTypes.Subscribable)}."];
            return null;
        }
        return [.. events.Distinct()!];
    }
}

public sealed record CreateWebhookEndpointRequest
{
    [Required, StringLength(100, MinimumLength = 1), PlainText]
    public string Name { get; init; } = "";

    [Required, StringLength(2048, MinimumLength = 1)]
    public string Url { get; init; } = "";

    [Required, MaxLength(20)]
    public IReadOnlyList<string?> Events { get; init; } = [];
}

/// <summary>Only the fields present change.</summary>
public sealed record UpdateWebhookEndpointRequest
{
    [StringLength(100, MinimumLength = 1), PlainText]
    public string? Name { get; init; }

    [StringLength(2048, MinimumLength = 1)]
    public string? Url { get; init; }

    [MaxLength(20)]
    public IReadOnlyList<string?>? Events { get; init; }

    public bool? IsActive { get; init; }
}

public sealed record RotateSecretRequest
{
    /// <summary>How long the previous secret keeps signing next to the new one: 0 (default) to 86400 seconds.</summary>
    [Range(0, 86400)]
    public int? PreviousSecretExpiresInSeconds { get; init; }
}
