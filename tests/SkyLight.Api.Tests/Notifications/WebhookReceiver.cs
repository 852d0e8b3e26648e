using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>
/// An integrator's endpoint on loopback: real Kestrel, recording every delivery with its raw body and headers, and
/// answering as the test scripts it (a status, a hang, a redirect, a long body); 200 once the script runs out.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ReceiverRoute> _routes = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var receiver = new WebhookReceiver(builder.Build());
        receiver._app.MapPost("/{**path}", receiver.ReceiveAsync);
        await receiver._app.StartAsync();
        receiver.BaseUrl = new Uri(receiver._app.Urls.Single());
        return receiver;
    }

    /// <summary>
    /// A URL of its own, with its own script and its own log: a test's endpoint is never answered by another test's
    /// script (another test's retries may arrive whenever the shared clock moves).
    /// </summary>
    public ReceiverRoute NewRoute()
    {
        var route = new ReceiverRoute(new Uri(BaseUrl, $"/hooks/{Guid.NewGuid():N}"));
        _routes[route.Url.AbsolutePath] = route;
        return route;
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers;
        var received = new ReceivedDelivery(body.ToArray(), context.Request.Path, context.Request.ContentType, headers["X-Skylight-Event"].ToString(),
            headers["X-Skylight-Delivery"].ToString(), headers["X-Skylight-Timestamp"].ToString(), headers["X-Skylight-Signature"].ToString());
        var answer = _routes.TryGetValue(context.Request.Path.Value ?? "", out var route) ? route.Take(received) : new ReceiverAnswer(404, "no such route");
        if (answer.Hangs)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        context.Response.StatusCode = answer.Status;
        if (answer.Location is { } location)
        {
            context.Response.Headers.Location = location;
        }
        await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        if (answer.StallsBody)
        {
            await context.Response.Body.FlushAsync(context.RequestAborted);   // the status and the start go out; the rest never comes
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>One endpoint URL at the receiver: what it got, and how it answers next.</summary>
public sealed class ReceiverRoute(Uri url)
{
    private readonly ConcurrentQueue<ReceiverAnswer> _answers = new();
    private readonly ConcurrentQueue<(ReceivedDelivery Delivery, ReceiverAnswer Answer)> _log = new();

    public Uri Url { get; } = url;

    public IReadOnlyList<ReceivedDelivery> Received => [.. _log.Select(e => e.Delivery)];

    /// <summary>Every request with the answer it was given (or is still waiting for: <see cref="ReceiverAnswer.Hang"/>).</summary>
    public IReadOnlyList<(ReceivedDelivery Delivery, ReceiverAnswer Answer)> Log => [.. _log];

    /// <summary>The next requests are answered so, in order; 200 once they are used up.</summary>
    public void Answer(params ReceiverAnswer[] answers)
    {
        foreach (var answer in answers)
        {
            _answers.Enqueue(answer);
        }
    }

    /// <summary>Drops the scripted answers not used yet: 200 from now on.</summary>
    public void ClearAnswers() => _answers.Clear();

    public async Task<IReadOnlyList<ReceivedDelivery>> WaitForAsync(int count, string because)
    {
        await Channels.ChannelsApp.WaitUntilAsync(() => Task.FromResult(_log.Count >= count), because);
        return Received;
    }

    internal ReceiverAnswer Take(ReceivedDelivery received)
    {
        var answer = _answers.TryDequeue(out var next) ? next : ReceiverAnswer.Ok;
        _log.Enqueue((received, answer));
        return answer;
    }
}

/// <summary>How the receiver answers one request.</summary>
public sealed record ReceiverAnswer(int Status, string Body = "ok", bool Hangs = false, string? Location = null, bool StallsBody = false)
{
    public static readonly ReceiverAnswer Ok = new(200);

    /// <summary>Never answers: the sender's timeout has to end it.</summary>
    public static readonly ReceiverAnswer Hang = new(0, Hangs: true);
}

/// <summary>One request as the receiver got it.</summary>
public sealed record ReceivedDelivery(byte[] Body, string Path, string? ContentType, string Event, string DeliveryId, string Timestamp, string Signature)
{
    public JsonElement Json => JsonSerializer.Deserialize<JsonElement>(Body);

    /// <summary>The signatures in the header, in order: hex HMAC-SHA256 values.</summary>
    public string[] Signatures => [.. Signature.Split(',').Select(s => s.StartsWith("sha256=", StringComparison.Ordinal) ? s["sha256=".Length..] : "not sha256: " + s)];

    /// <summary>The receiver's own check, as an integrator would write it (not the SDK's): HMAC-SHA256 of the raw body with the secret.</summary>
    public bool IsSignedWith(string secret)
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Body));
        return Signatures.Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }
}
