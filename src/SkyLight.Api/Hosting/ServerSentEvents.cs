using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace SkyLight.Api.Hosting;

/// <summary>One message of a text/event-stream: its id (for Last-Event-ID), its event name and its one-line data.</summary>
internal readonly record struct SseMessage(string? Id, string Event, string Data);

/// <summary>
/// Writes a text/event-stream: each message as it comes, flushed at once, and a comment line whenever nothing was
/// written for a heartbeat interval (on the service's clock), so that proxies keep the connection and clients can tell
/// a quiet stream from a dead one. It ends when the client goes away.
/// </summary>
internal static class ServerSentEvents
{
    /// <summary>How long a client waits before it reconnects after the stream broke (the <c>retry:</c> field).</summary>
    private const int ReconnectMilliseconds = 3000;

    /// <summary>
    /// Streams <paramref name="messages"/>. A <paramref name="position"/> goes out first as an <c>id:</c> with no data, which
    /// sets the client's Last-Event-ID without an event: a client that reconnects before the first event resumes from there.
    /// </summary>
    public static async Task WriteAsync(HttpContext http, IAsyncEnumerable<SseMessage> messages, TimeSpan heartbeat, TimeProvider time, string? position = null)
    {
        // a stream ends when its client goes, or when the service stops: a shutdown must not wait for streams that never end
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted,
            http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var ct = ended.Token;
        var response = http.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";   // nginx and its kin would otherwise hold events back
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var next = messages.GetAsyncEnumerator(stop.Token);
        var moved = Task.FromResult(false);
        try
        {
            await WriteTextAsync(response, $"retry: {ReconnectMilliseconds}\n" + (position is null ? "" : $"id: {position}\n") + "\n", ct);
            moved = next.MoveNextAsync().AsTask();
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var beat = Task.Delay(heartbeat, time, quiet.Token);
                if (await Task.WhenAny(moved, beat) == beat)
                {
                    await beat;   // throws when the client went away
                    await WriteTextAsync(response, ": heartbeat\n\n", ct);
                    continue;
                }
                await quiet.CancelAsync();
                if (!await moved)
                {
                    return;
                }
                await WriteTextAsync(response, Format(next.Current), ct);
                moved = next.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the client closed the stream, or the service is stopping (the client reconnects, to another node)
        }
        finally
        {
            // an async iterator cannot be disposed while it waits: stop the wait first
            await stop.CancelAsync();
            await moved.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await next.DisposeAsync();
        }
    }

    private static string Format(SseMessage message)
    {
        var text = new StringBuilder();
        if (message.Id is { } id)
        {
            text.Append("id: ").Append(id).Append('\n');
        }
        text.Append("event: ").Append(message.Event).Append('\n');
        foreach (var line in message.Data.Split('\n'))
        {
            text.Append("data: ").Append(line).Append('\n');   // JSON has no raw newline; this keeps any other text valid
        }
        return text.Append('\n').ToString();
    }

    private static async Task WriteTextAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await response.Body.FlushAsync(ct);
    }
}
