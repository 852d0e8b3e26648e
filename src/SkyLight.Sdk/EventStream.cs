using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace SkyLight.Sdk;

/// <summary>
/// GET /api/v1/channels/events/stream, read as server-sent events: each event once, in order. When the connection
/// breaks, goes quiet past <see cref="SkyLightClientOptions.StreamIdleTimeout"/> (the server sends a heartbeat every
/// 15 s), or the server answers 5xx or 429, it connects again with Last-Event-ID, so the server replays what was missed.
/// </summary>
internal sealed class EventStream : IAsyncDisposable
{
    private const string Path = "api/v1/channels/events/stream";

    private readonly ApiTransport _transport;
    private readonly string? _type;
    private HttpResponseMessage? _response;
    private string? _lastId;
    private TimeSpan _retry;

    private EventStream(ApiTransport transport, string? type, long? after)
    {
        _transport = transport;
        _type = type;
        _lastId = after?.ToString(CultureInfo.InvariantCulture);
        _retry = transport.Options.StreamReconnectDelay;
    }

    /// <summary>
    /// Opens the stream; once this returns, the server follows every event committed after it (or after
    /// <paramref name="after"/>). A 4xx other than 429 is thrown as <see cref="SkyLightApiException"/> (404: a server without streams).
    /// </summary>
    public static async Task<EventStream> OpenAsync(ApiTransport transport, string? type, long? after, CancellationToken cancellationToken)
    {
        var stream = new EventStream(transport, type, after);
        stream._response = await stream.ConnectAsync(cancellationToken).ConfigureAwait(false);
        return stream;
    }

    public async IAsyncEnumerable<ChannelEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var response = _response ??= await ConnectAsync(cancellationToken).ConfigureAwait(false);
            using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8))
            {
                while (await NextAsync(reader, cancellationToken).ConfigureAwait(false) is { } channelEvent)
                {
                    yield return channelEvent;
                }
            }
            _response.Dispose();
            _response = null;
            await Task.Delay(_retry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The next event of this connection; null when it ended, broke or went quiet.</summary>
    private async Task<ChannelEvent?> NextAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? id = null, name = null;
        var data = new StringBuilder();
        while (true)
        {
            string? line;
            using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                quiet.CancelAfter(_transport.Options.StreamIdleTimeout);
                try
                {
                    line = await reader.ReadLineAsync(quiet.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    return null;   // broken or silent: connect again from the last id
                }
            }
            if (line is null)
            {
                return null;
            }
            if (line.Length == 0)
            {
                if (id is not null)
                {
                    _lastId = id;   // also an id with no data: the server's position before any event
                }
                if (data.Length > 0 && name is not null && name.StartsWith("channel.", StringComparison.Ordinal))
                {
                    return ApiTransport.Read(default, _ => JsonSerializer.Deserialize<ChannelEvent>(data.ToString(), ApiTransport.Json),
                        $"a channel event (the stream sent {name})") ?? throw new SkyLightApiException(HttpStatusCode.OK, "The stream sent an empty event.");
                }
                (id, name) = (null, null);
                data.Clear();
                continue;
            }
            if (line[0] == ':')
            {
                continue;   // a heartbeat
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    name = value;
                    break;
                case "data":
                    data.Append(data.Length > 0 ? "\n" : "").Append(value);
                    break;
                case "retry" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds):
                    _retry = TimeSpan.FromMilliseconds(milliseconds);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>One connection: the response once its headers arrived, retrying what a reconnect may meet (5xx, 429, network).</summary>
    private async Task<HttpResponseMessage> ConnectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Path + (_type is null ? "" : $"?type={Uri.EscapeDataString(_type)}"));
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (_lastId is not null)
            {
                request.Headers.Add("Last-Event-ID", _lastId);
            }
            HttpResponseMessage response;
            try
            {
                response = await _transport.SendRawAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (_lastId is not null)
            {
                await Task.Delay(_retry, cancellationToken).ConfigureAwait(false);   // a reconnect: the service may be restarting
                continue;
            }
            if (response.IsSuccessStatusCode)
            {
                return response;
            }
            var error = await ApiTransport.FailureAsync(response, cancellationToken).ConfigureAwait(false);
            response.Dispose();
            if (error.StatusCode is HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError && _lastId is not null)
            {
                await Task.Delay(error.RetryAfter is { } seconds ? TimeSpan.FromSeconds(seconds) : _retry, cancellationToken).ConfigureAwait(false);
                continue;
            }
            throw error;
        }
    }

    public ValueTask DisposeAsync()
    {
        _response?.Dispose();
        return ValueTask.CompletedTask;
    }
}
