using System.Globalization;
using System.Text.Json;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Notifications;

/// <summary>
/// A delivery's <c>data</c> for a channel event: the channel object as the API shows it, with its status as the event
/// left it, followed by the event itself (id, type, reason, source, previous status), so a receiver can order events
/// by <c>event_id</c> and tell its user why. Username and last sync come from the channel as it is when the event is
/// fanned out (null once it is disconnected).
/// </summary>
internal sealed record ChannelEventData(
    int Id, string Type, string? Username, bool IsConnected, string? SyncStatus, string? LastSyncedAt, string? StatusReason, string? StatusChangedAt,
    long EventId, string EventType, string? Reason, string Source, string? PreviousSyncStatus, bool? PreviousIsConnected, string? AccountId,
    string OccurredAt);

/// <summary>The <c>data</c> of a <c>webhook.test</c> delivery.</summary>
internal sealed record TestEventData(int WebhookId, string Message);

internal static class WebhookPayloads
{
    // relaxed escaping: "+03:00" and "+9665…" stay readable in the signed body (it is JSON for a receiver, never HTML)
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string ChannelEvent(ChannelEvent e, Channel? channel, TimeZoneInfo zone)
    {
        var reason = e.Reason is { } r ? EventNames.Of(r) : null;
        var occurredAt = WorkspaceTime.Format(e.OccurredAt, zone);
        return JsonSerializer.Serialize(new ChannelEventData(
            e.ChannelId, e.ChannelType, channel?.Username, e.IsConnected, e.SyncStatus, WorkspaceTime.Format(channel?.LastSyncedAt, zone),
            reason, occurredAt, e.Id, EventNames.Of(e.Type), reason, EventNames.Of(e.Source), e.PreviousSyncStatus, e.PreviousIsConnected,
            e.UnipileAccountId, occurredAt), Json);
    }

    public static string Test(int endpointId) =>
        JsonSerializer.Serialize(new TestEventData(endpointId, "A test event from SkyLight: this endpoint receives and verifies deliveries."), Json);

    /// <summary>The raw body of one attempt: the stored data inside the conventions' envelope, stamped with the attempt's time.</summary>
    public static byte[] Body(WebhookDelivery delivery, long unixSeconds)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", delivery.EventType);
            writer.WriteString("delivery_id", delivery.DeliveryId.ToString("D", CultureInfo.InvariantCulture));
            writer.WriteNumber("timestamp", unixSeconds);
            writer.WritePropertyName("data");
            writer.WriteRawValue(delivery.Data, skipInputValidation: true);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
