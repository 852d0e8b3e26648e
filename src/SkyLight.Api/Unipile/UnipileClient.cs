using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;
using SkyLight.Api.Observability;

namespace SkyLight.Api.Unipile;

/// <summary>
/// Unipile's v1 API, the calls the Channels API needs. Any 2xx counts as an answer and its <c>object</c>
/// discriminator decides what it was; the body is read as JSON whatever its content type says.
/// </summary>
internal sealed class UnipileClient(HttpClient http, SkyLightMetrics metrics)
{
    public Task<ConnectOutcome> ConnectAsync(ConnectRequest request, CancellationToken ct) =>
        SendAsync("connect", HttpMethod.Post, "api/v1/accounts", request, OutcomeOf, ct);

    /// <summary>Starts a new login for an existing account; Unipile keeps its id.</summary>
    public Task<ConnectOutcome> ReconnectAsync(string accountId, ConnectRequest request, CancellationToken ct) =>
        SendAsync("reconnect", HttpMethod.Post, $"api/v1/accounts/{Uri.EscapeDataString(accountId)}", request, OutcomeOf, ct);

    public Task<ConnectOutcome> SolveCheckpointAsync(string accountId, string provider, string code, CancellationToken ct) =>
        SendAsync("solve_checkpoint", HttpMethod.Post, "api/v1/accounts/checkpoint", new { provider, account_id = accountId, code }, OutcomeOf, ct);

    /// <summary>Any 2xx object counts: sources disagree on whether it is a CheckpointResend or a Checkpoint.</summary>
    public Task ResendCheckpointAsync(string accountId, string provider, CancellationToken ct) =>
        SendAsync("resend_checkpoint", HttpMethod.Post, "api/v1/accounts/checkpoint/resend", new { provider, account_id = accountId }, answer => answer, ct);

    public Task<UnipileAccount> GetAccountAsync(string accountId, CancellationToken ct) =>
        SendAsync("get_account", HttpMethod.Get, $"api/v1/accounts/{Uri.EscapeDataString(accountId)}", null, answer => Read<UnipileAccount>(Expect(answer, "Account")), ct);

    public Task<AccountPage> ListAccountsAsync(string? cursor, int limit, CancellationToken ct)
    {
        var query = $"api/v1/accounts?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
        return SendAsync("list_accounts", HttpMethod.Get, query, null, answer => Read<AccountPage>(Expect(answer, "AccountList")), ct);
    }

    public async IAsyncEnumerable<UnipileAccount> ListAllAccountsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var page = await ListAccountsAsync(cursor, 250, ct);
            foreach (var account in page.Items)
            {
                yield return account;
            }
            cursor = page.Cursor;
        }
        while (!string.IsNullOrEmpty(cursor) && seen.Add(cursor));   // a repeated cursor would never end
    }

    public Task DeleteAccountAsync(string accountId, CancellationToken ct) =>
        SendAsync("delete_account", HttpMethod.Delete, $"api/v1/accounts/{Uri.EscapeDataString(accountId)}", null, answer => Expect(answer, "AccountDeleted"), ct);

    public Task<string> CreateWebhookAsync(WebhookRegistration webhook, CancellationToken ct) =>
        SendAsync("create_webhook", HttpMethod.Post, "api/v1/webhooks", webhook, answer => Text(Expect(answer, "WebhookCreated"), "webhook_id"), ct);

    public Task<IReadOnlyList<UnipileWebhook>> ListWebhooksAsync(CancellationToken ct) =>
        SendAsync("list_webhooks", HttpMethod.Get, "api/v1/webhooks", null, answer => Read<WebhookPage>(Expect(answer, "WebhookList")).Items, ct);

    public Task DeleteWebhookAsync(string webhookId, CancellationToken ct) =>
        SendAsync("delete_webhook", HttpMethod.Delete, $"api/v1/webhooks/{Uri.EscapeDataString(webhookId)}", null, answer => Expect(answer, "WebhookDeleted"), ct);

    private static ConnectOutcome OutcomeOf(JsonElement answer) =>
        ObjectOf(answer) switch
        {
            "AccountCreated" => new ConnectOutcome(ConnectResult.Created, Text(answer, "account_id"), null),
            "AccountReconnected" => new ConnectOutcome(ConnectResult.Reconnected, Text(answer, "account_id"), null),
            "Checkpoint" when answer.TryGetProperty("checkpoint", out var checkpoint) && checkpoint.ValueKind == JsonValueKind.Object =>
                new ConnectOutcome(ConnectResult.CheckpointRequired, Text(answer, "account_id"), Read<UnipileCheckpoint>(checkpoint)),
            var other => throw Unexpected($"an account outcome, got object {other ?? "(none)"}"),
        };

    /// <summary>
    /// One call, read by <paramref name="read"/>, timed as <paramref name="operation"/> with its outcome
    /// (<c>skylight.unipile.call.duration</c>): an answer that cannot be read is no success.
    /// </summary>
    private async Task<T> SendAsync<T>(string operation, HttpMethod method, string path, object? body, Func<JsonElement, T> read, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();   // a duration, not a date: it must not move with a test's clock
        var outcome = "success";
        try
        {
            return read(await CallAsync(method, path, body, ct));
        }
        catch (UnipileException e)
        {
            outcome = Outcome(e);
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            metrics.UnipileCall(operation, outcome, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>A bounded label: Unipile's own error types are its to extend, so only their class counts.</summary>
    private static string Outcome(UnipileException e) => e.Type switch
    {
        UnipileException.Timeout => "timeout",
        UnipileException.Unreachable => "unreachable",
        UnipileException.CircuitOpen => "circuit_open",
        _ when e.StatusCode is { } status && (int)status >= 500 => "server_error",
        _ when e.StatusCode is { } status && (int)status >= 400 => "client_error",
        _ => "unexpected_response",
    };

    private async Task<JsonElement> CallAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: UnipileJson.Options);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (TimeoutRejectedException e)
        {
            throw new UnipileException(null, UnipileException.Timeout, "Unipile did not answer in time", null, e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new UnipileException(null, UnipileException.Timeout, "Unipile did not answer in time", null, e);
        }
        catch (BrokenCircuitException e)
        {
            throw new UnipileException(null, UnipileException.CircuitOpen, "Unipile is failing; calls are paused for a moment", null, e);
        }
        catch (HttpRequestException e)
        {
            throw new UnipileException(null, UnipileException.Unreachable, "Unipile could not be reached", e.HttpRequestError.ToString(), e);
        }

        using (response)
        {
            var json = TryParse(await response.Content.ReadAsByteArrayAsync(ct));
            if (!response.IsSuccessStatusCode)
            {
                // read field by field: an error answer must surface as itself, whatever its body looks like
                throw new UnipileException(response.StatusCode, StringIn(json, "type") ?? $"http/{(int)response.StatusCode}",
                    StringIn(json, "title") ?? response.ReasonPhrase ?? "Error", StringIn(json, "detail"));
            }
            return json is { ValueKind: JsonValueKind.Object } answer ? answer : throw Unexpected(response.StatusCode, "a JSON object");
        }
    }

    private static string? StringIn(JsonElement? json, string property) =>
        json is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static JsonElement? TryParse(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ObjectOf(JsonElement answer) =>
        answer.TryGetProperty("object", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonElement Expect(JsonElement answer, string expectedObject) =>
        ObjectOf(answer) == expectedObject ? answer : throw Unexpected($"object {expectedObject}, got {ObjectOf(answer) ?? "(none)"}");

    private static string Text(JsonElement answer, string property) =>
        answer.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Unexpected($"a non-empty {property}");

    private static T Read<T>(JsonElement element)
    {
        try
        {
            return element.Deserialize<T>(UnipileJson.Options) ?? throw Unexpected(typeof(T).Name);
        }
        catch (JsonException e)
        {
            throw Unexpected($"{typeof(T).Name} ({e.Path})");
        }
    }

    private static UnipileException Unexpected(string expected) => Unexpected(null, expected);

    /// <summary>A success answer we could not use; its status, when known, says which success it was.</summary>
    private static UnipileException Unexpected(HttpStatusCode? status, string expected) =>
        new(status, UnipileException.UnexpectedResponse, "Unipile's answer was not understood", $"expected {expected}");

    private sealed record WebhookPage(IReadOnlyList<UnipileWebhook> Items);
}
