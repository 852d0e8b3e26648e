using System.Text;
using System.Text.Json;

namespace SkyLight.Api.Tests.Channels;

/// <summary>One thing a text/event-stream said: a message (id, event, data) or a comment line.</summary>
public sealed record StreamedMessage(string? Id, string? Event, string Data, string? Comment)
{
    public T Read<T>() => JsonSerializer.Deserialize<T>(Data, EventStreamReader.Json)!;
}

/// <summary>Reads a server-sent event stream over real HTTP, message by message, as a browser's EventSource parses it.</summary>
public sealed class EventStreamReader : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly HttpResponseMessage _response;
    private readonly StreamReader? _reader;

    private EventStreamReader(HttpResponseMessage response, Stream? body)
    {
        _response = response;
        _reader = body is null ? null : new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Opens the stream; the response is returned as it is when it is not 200 (read <see cref="Response"/>).</summary>
    public static async Task<EventStreamReader> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var body = response.IsSuccessStatusCode ? await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken) : null;
        return new EventStreamReader(response, body);
    }

    /// <summary>The next message or comment; fails the test when none comes within <paramref name="seconds"/>.</summary>
    public async Task<StreamedMessage> NextAsync(double seconds = 10)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        string? id = null, name = null;
        var data = new List<string>();
        while (true)
        {
            string? line;
            try
            {
                line = await (_reader ?? throw new InvalidOperationException($"the stream answered {_response.StatusCode}")).ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the stream said nothing for {seconds} s");
            }
            if (line is null)
            {
                throw new EndOfStreamException("the stream ended");
            }
            if (line.Length == 0)
            {
                if (data.Count > 0 || name is not null)
                {
                    return new StreamedMessage(id, name, string.Join('\n', data), null);
                }
                continue;   // a retry: field alone, or a stray blank line
            }
            if (line.StartsWith(':'))
            {
                return new StreamedMessage(null, null, "", line[1..].Trim());
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "data": data.Add(value); break;
                default: break;
            }
        }
    }

    /// <summary>The next message, skipping heartbeats.</summary>
    public async Task<StreamedMessage> NextMessageAsync(double seconds = 10)
    {
        while (true)
        {
            var next = await NextAsync(seconds);
            if (next.Comment is null)
            {
                return next;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
