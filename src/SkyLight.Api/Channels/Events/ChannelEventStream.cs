using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Channels.Events;

/// <summary>
/// The timeline live, as server-sent events: each event of the workspace as it commits, on whichever node. A client
/// that reconnects with Last-Event-ID (or ?after=) gets what it missed from the journal first, with no gap and no
/// duplicate. Counted once by the rate limit, at connect; the open streams of one key are capped.
/// </summary>
internal static class ChannelEventStream
{
    public static void MapChannelEventStream(this RouteGroupBuilder channels) =>
        channels.MapGet("/events/stream", StreamAsync)
            .WithName("StreamChannelEvents")
            .WithSummary("Server-sent events of every channel event as it commits; Last-Event-ID (or ?after=) resumes from the journal.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .Errors(422, 429);

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult, ValidationProblem>> StreamAsync(
        [FromQuery] string? type, [FromQuery] string? after, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, HttpContext http,
        CurrentWorkspace workspace, JournalFollower follower, StreamConnections connections, IOptions<StreamsOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider time, Observability.SkyLightMetrics metrics)
    {
        var errors = new Dictionary<string, string[]>();
        ChannelEventsApi.CheckType(type, errors);
        var from = lastEventId is not null
            ? ChannelEventsApi.ReadEventId(lastEventId, "Last-Event-ID", errors)
            : ChannelEventsApi.ReadEventId(after, "after", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var limit = options.Value.MaxConnectionsPerKey;
        using var slot = connections.TryOpen($"key:{workspace.ApiKeyId}", limit);
        if (slot is null)
        {
            metrics.RateLimitRefused("streams_per_key");
            return ApiErrors.TooManyRequests($"This API key holds {limit} open event streams, the most it may. Close one first.", 5);
        }
        // subscribed before the first byte goes out: a client that saw the stream open misses nothing committed after
        using var followed = await follower.StartAsync(workspace.Id, type, from, http.RequestAborted);
        var events = Messages(followed.ReadAllAsync(http.RequestAborted), workspace.TimeZone, json.Value.SerializerOptions);
        await ServerSentEvents.WriteAsync(http, events, options.Value.HeartbeatInterval, time, followed.After.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Empty;
    }

    private static async IAsyncEnumerable<SseMessage> Messages(IAsyncEnumerable<ChannelEvent> events, TimeZoneInfo zone, JsonSerializerOptions json,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var channelEvent in events.WithCancellation(ct))
        {
            var data = ChannelEventResponse.From(channelEvent, zone);
            yield return new SseMessage(data.Id.ToString(CultureInfo.InvariantCulture), data.Type, JsonSerializer.Serialize(data, json));
        }
    }
}
