using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SkyLight.Sdk;

/// <summary>Sends requests, reads the SkyLight envelope, waits out 429s within bounds, and throws <see cref="SkyLightApiException"/>.</summary>
internal sealed class ApiTransport(HttpClient http, SkyLightClientOptions options)
{
    private string? _firstPostKey = options.IdempotencyKey;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public SkyLightClientOptions Options => options;

    /// <summary>The body of a 2xx answer (default for an empty one, e.g. 204).</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        // one key for every try of this POST: a retry is answered with the first try's outcome, never run twice
        var idempotencyKey = method == HttpMethod.Post ? SkyLightIdempotency.Take() ?? Interlocked.Exchange(ref _firstPostKey, null) ?? (options.SendIdempotencyKeys ? Guid.NewGuid().ToString("N") : null) : null;
        for (var retry = 0; ; retry++)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
            if (options.ApiKey is { Length: > 0 } key)
            {
                request.Headers.Add("X-Api-Key", key);
            }
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (idempotencyKey is not null && retry < options.MaxTransportRetries)
            {
                await Task.Delay(options.TransportRetryDelay, cancellationToken).ConfigureAwait(false);   // the answer was lost, not the work
                continue;
            }
            using (response)
            {
                var json = Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                if (response.IsSuccessStatusCode)
                {
                    return json;
                }
                var error = Failure(response.StatusCode, json);
                // a 429, or this key's first try still running (409 with retry_after): wait, then ask again with the same key
                var waitable = error.StatusCode == HttpStatusCode.TooManyRequests || (error.StatusCode == HttpStatusCode.Conflict && idempotencyKey is not null);
                if (waitable && error.RetryAfter is { } seconds && retry < options.MaxRateLimitRetries && TimeSpan.FromSeconds(seconds) <= options.MaxRetryAfter)
                {
                    await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw error;
            }
        }
    }

    /// <summary>Reads an answer's shape; anything unexpected (a proxy's page, a missing member) is one clear exception.</summary>
    public static T Read<T>(JsonElement answer, Func<JsonElement, T> read, string what)
    {
        try
        {
            return read(answer);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or JsonException or ArgumentException)
        {
            throw new SkyLightApiException(System.Net.HttpStatusCode.OK, $"The API's answer was not {what}.");
        }
    }

    /// <summary>A paginated list: its <c>data</c> items and the numbers of its <c>meta</c>, made into a page by <paramref name="page"/>.</summary>
    public async Task<TPage> PageAsync<TItem, TPage>(string path, Func<List<TItem>, int, int, int, int, TPage> page, string what, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        return Read(answer, a =>
        {
            var meta = a.GetProperty("meta");
            return page(a.GetProperty("data").Deserialize<List<TItem>>(Json) ?? [], meta.GetProperty("current_page").GetInt32(),
                meta.GetProperty("last_page").GetInt32(), meta.GetProperty("per_page").GetInt32(), meta.GetProperty("total").GetInt32());
        }, what);
    }

    /// <summary>The envelope's <c>data</c>, read as <typeparamref name="T"/>.</summary>
    public async Task<T> DataAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        return Read(answer, a => a.GetProperty("data").Deserialize<T>(Json), $"the expected data of {method} {path}")
            ?? throw new SkyLightApiException(HttpStatusCode.OK, $"The API's answer to {method} {path} had no data.");
    }

    /// <summary>Sends the request with the key and nothing else: the caller reads (and disposes) the response.</summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        if (options.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Add("X-Api-Key", key);
        }
        return http.SendAsync(request, completion, cancellationToken);
    }

    /// <summary>The exception for a response that is not 2xx, read from its envelope.</summary>
    public static async Task<SkyLightApiException> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        Failure(response.StatusCode, Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)));

    public async Task<byte[]> BytesAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (options.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Add("X-Api-Key", key);
        }
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode ? bytes : throw Failure(response.StatusCode, Parse(System.Text.Encoding.UTF8.GetString(bytes)));
    }

    private static SkyLightApiException Failure(HttpStatusCode status, JsonElement json)
    {
        var message = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()!
            : $"The SkyLight API answered {(int)status}.";
        var errors = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object
            ? e.Deserialize<Dictionary<string, string[]>>(Json)
            : null;
        int? retryAfter = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("retry_after", out var r) && r.TryGetInt32(out var seconds) ? seconds : null;
        return new SkyLightApiException(status, message, errors, retryAfter);
    }

    private static JsonElement Parse(string text)
    {
        if (text.Length == 0)
        {
            return default;
        }
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
