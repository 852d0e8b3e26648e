using System.Text.Json;
using System.Text.Json.Serialization;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Notifications;

/// <summary>An endpoint as the API shows it; <c>secret</c> only in the answers that make one (create, rotate).</summary>
internal sealed record WebhookEndpointResponse(
    int Id, string Name, string Url, IReadOnlyList<string> Events, bool IsActive, string? DisabledReason, string? PreviousSecretExpiresAt,
    string CreatedAt, string UpdatedAt, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
{
    public static WebhookEndpointResponse From(WebhookEndpoint e, DateTimeOffset now, string? secret = null) =>
        new(e.Id, e.Name, e.Url, e.EventList, e.IsActive, e.DisabledReason,
            e.PreviousSecretExpiresAt > now ? WorkspaceTime.Utc(e.PreviousSecretExpiresAt) : null,
            WorkspaceTime.Utc(e.CreatedAt), WorkspaceTime.Utc(e.UpdatedAt), secret);
}

/// <summary>A delivery in the log; its detail adds the data sent and every attempt.</summary>
internal sealed record WebhookDeliveryResponse(
    Guid DeliveryId, string Event, long? EventId, string Status, int Attempts, int? LastResponseStatus, string? LastError,
    string? NextAttemptAt, string? DeliveredAt, string CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Data = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<WebhookAttemptResponse>? AttemptLog = null)
{
    public static WebhookDeliveryResponse From(WebhookDelivery d, int attempts) =>
        new(d.DeliveryId, d.EventType, d.EventId, d.Status, attempts, d.LastResponseStatus, d.LastError,
            d.Status == DeliveryStatuses.Pending ? WorkspaceTime.Utc(d.NextAttemptAt) : null, WorkspaceTime.Utc(d.DeliveredAt), WorkspaceTime.Utc(d.CreatedAt));

    public static WebhookDeliveryResponse Detail(WebhookDelivery d) =>
        From(d, d.AttemptLog.Count) with
        {
            Data = JsonSerializer.Deserialize<JsonElement>(d.Data),
            AttemptLog = [.. d.AttemptLog.OrderBy(a => a.Id).Select(a =>
                new WebhookAttemptResponse(WorkspaceTime.Utc(a.AttemptedAt), a.DurationMs, a.ResponseStatus, a.ResponseBody, a.Error))],
        };
}

/// <summary>One attempt of a delivery: the receiver's status and the start of its answer, or why there was none.</summary>
internal sealed record WebhookAttemptResponse(string AttemptedAt, int DurationMs, int? ResponseStatus, string? ResponseBody, string? Error);
