using System.ComponentModel.DataAnnotations;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Connect;

/// <summary>
/// What the connect page's script calls, on the page's own origin: its state, a stream of its state, and the user's
/// actions. Every action carries the page's anti-forgery token; password and code submissions are counted per link.
/// </summary>
internal static class ConnectPageApi
{
    private const string NoLink = "This connect link does not exist.";

    public static void MapConnectPageApi(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("/connect/{token}").ExcludeFromDescription().AddEndpointFilter(ConnectPage.SecurityHeaders);
        page.MapGet("/state", StateAsync);
        page.MapGet("/events", EventsAsync);
        page.MapPost("/qr", (string token, HttpContext http, ConnectSession session, IAntiforgery antiforgery, CancellationToken ct) =>
            ActAsync(token, http, session, antiforgery, qr: true, before => session.StartQrAsync(before, ct), ct));
        page.MapPost("/instagram/login", (string token, PageLoginRequest request, HttpContext http, ConnectSession session, IAntiforgery antiforgery,
            CancellationToken ct) => ActAsync(token, http, session, antiforgery, qr: false, _ => session.LogInAsync(request.Username!.Trim(), request.Password!, ct), ct));
        page.MapPost("/instagram/code", (string token, PageCodeRequest request, HttpContext http, ConnectSession session, IAntiforgery antiforgery,
            CancellationToken ct) => ActAsync(token, http, session, antiforgery, qr: false, _ => session.SolveAsync(request.Code!.Trim(), ct), ct));
        page.MapPost("/instagram/resend", (string token, HttpContext http, ConnectSession session, IAntiforgery antiforgery, CancellationToken ct) =>
            ActAsync(token, http, session, antiforgery, qr: false, _ => session.ResendAsync(ct), ct));
    }

    private static async Task<Results<Ok<PageState>, ProblemHttpResult>> StateAsync(string token, ConnectSession session, CancellationToken ct) =>
        await session.OpenAsync(token, ct) is null ? ApiErrors.NotFound(NoLink) : TypedResults.Ok(await session.StateAsync(ct));

    private static async Task<Results<Ok<PageState>, JsonHttpResult<PageState>, ProblemHttpResult>> ActAsync(
        string token, HttpContext http, ConnectSession session, IAntiforgery antiforgery, bool qr, Func<PageState, Task<PageState>> act, CancellationToken ct)
    {
        if (await session.OpenAsync(token, ct) is not { } link)
        {
            return ApiErrors.NotFound(NoLink);
        }
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return TypedResults.Problem(detail: "This page has expired or was not sent by this service. Reload it.", statusCode: StatusCodes.Status403Forbidden);
        }
        if (qr == (link.ChannelType == ChannelTypes.Instagram))
        {
            return ApiErrors.NotFound($"This link connects {ChannelNames.Display(link.ChannelType)}: it has no such step.");
        }
        var before = await session.StateAsync(ct);
        if (before.Screen is Screens.Invalid or Screens.Success)
        {
            return TypedResults.Json(before, statusCode: before.Screen == Screens.Invalid ? StatusCodes.Status410Gone : StatusCodes.Status200OK);
        }
        var state = await act(before);   // the state just read: an action need not read it again
        return state.TooManyTries ? TypedResults.Json(state, statusCode: StatusCodes.Status429TooManyRequests) : TypedResults.Ok(state);
    }

    /// <summary>The page's state as server-sent events: now, then again whenever an event of the link's channel changes it.</summary>
    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> EventsAsync(
        string token, HttpContext http, ConnectSession session, JournalFollower follower, StreamConnections connections, IServiceScopeFactory scopes,
        IOptions<StreamsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider time, Observability.SkyLightMetrics metrics)
    {
        if (await session.OpenAsync(token, http.RequestAborted) is not { } link)
        {
            return ApiErrors.NotFound(NoLink);
        }
        using var slot = connections.TryOpen($"link:{link.Id}", options.Value.MaxConnectionsPerLink);
        if (slot is null)
        {
            metrics.RateLimitRefused("streams_per_link");
            return ApiErrors.TooManyRequests("This page is open in too many windows. Close one of them.", 5);
        }
        using var followed = await follower.StartAsync(link.WorkspaceId, link.ChannelType, null, http.RequestAborted);
        var states = States(token, followed.ReadAllAsync(http.RequestAborted), scopes, json.Value.SerializerOptions);
        await ServerSentEvents.WriteAsync(http, states, options.Value.HeartbeatInterval, time);
        return TypedResults.Empty;
    }

    private static async IAsyncEnumerable<SseMessage> States(string token, IAsyncEnumerable<ChannelEvent> events, IServiceScopeFactory scopes,
        JsonSerializerOptions json, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? last = null;
        await using var changes = events.GetAsyncEnumerator(ct);
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var session = scope.ServiceProvider.GetRequiredService<ConnectSession>();
            if (await session.OpenAsync(token, ct) is null)
            {
                yield break;
            }
            var state = JsonSerializer.Serialize(await session.StateAsync(ct), json);
            if (state != last)
            {
                yield return new SseMessage(null, "state", state);
                last = state;
            }
        }
        while (await changes.MoveNextAsync());
    }
}

// public: the .NET 10 validation generator only inspects public request types
public sealed record PageLoginRequest
{
    [Required, StringLength(100), PlainText]
    public string? Username { get; init; }

    [Required, StringLength(200), PlainText]
    public string? Password { get; init; }

    // the password must never reach a log line, even through a record's printed form
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Username = ").Append(Username);
        return true;
    }
}

public sealed record PageCodeRequest
{
    [Required, StringLength(32), PlainText]
    public string? Code { get; init; }
}
