using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Fuzz;

/// <summary>ChannelsApp (real clock, Unipile reachable, no orphans on dispose) with a rate limit the fuzzer cannot reach.</summary>
public sealed class FuzzApp : ChannelsApp
{
    public FuzzApp()
    {
        Settings["RateLimiting:PermitLimit"] = "1000000";
        Settings["Logging:LogLevel:Default"] = "Warning";   // thousands of requests: the console gets warnings and errors only
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // the captured lines are searched for errors afterwards; tracing every SQL command would only slow the run down
        builder.ConfigureLogging(logging => logging.AddFilter<CapturedLogs>("Microsoft", LogLevel.Warning));
    }
}

/// <summary>
/// A seeded fuzz run over every route of the service's own OpenAPI document (and the few it leaves out): the
/// service must never answer 5xx, every error must be the SkyLight envelope without exception text, and the
/// service must be healthy afterwards. Reproduce a run with SKYLIGHT_FUZZ_SEED and SKYLIGHT_FUZZ_REQUESTS.
/// </summary>
public sealed class ApiFuzzTests
{
    private const int DefaultSeed = 20260311;
    private const int DefaultRequests = 4000;
    private const int Lanes = 6;
    private const int MaxListed = 20;
    private const string OrphanFinding = "afterwards: an emulator account no channel or attempt holds";

    private static readonly string[] ExceptionMarkers = ["Exception", "   at ", "System.", "Microsoft.", "StackTrace", "stack trace"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 240_000)]
    public async Task NoInputMakesTheServiceFailOrAnswerOutsideTheEnvelope()
    {
        var seed = FromEnvironment("SKYLIGHT_FUZZ_SEED", DefaultSeed);
        var count = FromEnvironment("SKYLIGHT_FUZZ_REQUESTS", DefaultRequests);
        var started = TimeProvider.System.GetTimestamp();
        var findings = new List<Finding>();
        var statuses = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var sent = 0;

        var app = new FuzzApp();
        var completed = false;
        try
        {
            var inactive = await app.NewWorkspaceAsync();
            await using (var scope = app.Services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>().DeactivateAsync(inactive.Id, Ct);
            }
            var workspaces = new List<TestWorkspace>();
            var targets = new List<FuzzTargets>();
            for (var lane = 0; lane < Lanes; lane++)
            {
                workspaces.Add(await app.NewWorkspaceAsync());
                targets.Add(await TargetsAsync(app, workspaces[lane].Client));
            }
            var client = app.CreateClient();
            client.Timeout = TimeSpan.FromSeconds(30);

            var document = await (await client.GetAsync("/openapi/v1.json", Ct)).BodyAsync();
            var operations = FuzzOperation.FromOpenApi(document);
            Assert.NotEmpty(operations);
            var plan = FuzzPlan.Create(seed, count, [.. operations, .. FuzzPlan.Undocumented()], targets);
            var keys = workspaces.Select(w => new Keys(w.ApiKey, inactive.ApiKey, app.WebhookSecret)).ToList();
            Log($"fuzz: seed {seed} (SKYLIGHT_FUZZ_SEED), {plan.Count} requests (SKYLIGHT_FUZZ_REQUESTS; the sweep alone is the minimum), " +
                $"{operations.Count} documented operations, {Lanes} lanes side by side");

            var results = new Response[plan.Count];
            await Parallel.ForEachAsync(plan.GroupBy(r => r.Lane), new ParallelOptions { MaxDegreeOfParallelism = Lanes, CancellationToken = TestContext.Current.CancellationToken },
                async (lane, ct) =>
                {
                    foreach (var request in lane)
                    {
                        results[request.Index] = await SendAsync(client, request, keys[request.Lane], ct);
                    }
                });
            sent = plan.Count;

            foreach (var request in plan)
            {
                var result = results[request.Index];
                if (result.Status == 0)
                {
                    findings.Add(new Finding("no response (transport error)", request, 0, result.Body));
                    continue;
                }
                var statusClass = result.Status / 100 + "xx";
                statuses[statusClass] = statuses.GetValueOrDefault(statusClass) + 1;
                findings.AddRange(Check(request, result.Status, result.ContentType, result.Body));
            }

            findings.AddRange(await HealthAfterwardsAsync(app, client, workspaces[0].ApiKey));
            Log(Report(seed, sent, statuses, findings, started));
            completed = true;
        }
        finally
        {
            try
            {
                await app.DisposeAsync();   // checks again that the emulator holds no account the service forgot
            }
            catch (Xunit.Sdk.XunitException) when (!completed || findings.Exists(f => f.Kind.StartsWith(OrphanFinding, StringComparison.Ordinal)))
            {
                // already reported: by the exception that ended the run, or among the findings
            }
        }

        Assert.True(findings.Count == 0, Report(seed, sent, statuses, findings, started));
    }

    private sealed record Keys(string Valid, string Inactive, string WebhookSecret);

    /// <summary>Status 0: no response came (the body then holds the client's exception).</summary>
    private readonly record struct Response(int Status, string ContentType, string Body);

    private sealed record Finding(string Kind, FuzzRequest? Request, int Status, string ResponseBody)
    {
        public string Message
        {
            get
            {
                try
                {
                    using var body = JsonDocument.Parse(ResponseBody);
                    return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("message", out var message) ? message.ToString() : FuzzRequest.Excerpt(ResponseBody, 80);
                }
                catch (JsonException)
                {
                    return FuzzRequest.Excerpt(ResponseBody, 80);
                }
            }
        }

        public string Key => $"{Kind} | {Request?.Method} {Request?.Route} | {Status} | {Message}";
    }

    /// <summary>A connected Telegram channel and three campaigns on it, so valid ids reach real rows.</summary>
    private static async Task<FuzzTargets> TargetsAsync(FuzzApp app, HttpClient client)
    {
        var (channelId, accountId) = await app.ConnectedChannelAsync(client, "telegram");
        var campaigns = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            var response = await client.PostAsJsonAsync("/api/v1/campaigns", new { name = $"Fuzz target {i}", channel_id = channelId }, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            campaigns.Add((await response.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32());
        }
        return new FuzzTargets(channelId, accountId, campaigns);
    }

    private static async Task<Response> SendAsync(HttpClient client, FuzzRequest request, Keys keys, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(request.Path, UriKind.Relative));
        if (request.Body is { } body)
        {
            message.Content = request.Chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
            if (request.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        Authenticate(message, request.Auth, keys);
        // the server may close a connection whose body it would not read; no later request should inherit it. A large
        // body waits for 100 Continue, as careful clients send one: the server's early 413 then arrives before any of it
        var oversize = request.Body?.Length > FuzzPlan.BodyLimit;
        message.Headers.ConnectionClose = oversize;
        message.Headers.ExpectContinue = oversize;
        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            var type = response.Content.Headers.ContentType?.ToString() ?? "";
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                // a live stream never ends: its first line shows it is one, and closing it is the client's right
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
                return new Response((int)response.StatusCode, type, await reader.ReadLineAsync(ct) ?? "");
            }
            return new Response((int)response.StatusCode, type, await response.Content.ReadAsStringAsync(ct));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new Response(0, "", $"{e.GetType().Name}: {e.Message} {e.InnerException?.Message}");   // a request must get an answer
        }
    }

    private static void Authenticate(HttpRequestMessage message, FuzzAuth auth, Keys keys)
    {
        var headers = message.Headers;
        switch (auth)
        {
            case FuzzAuth.ValidKey:
                headers.Add("X-Api-Key", keys.Valid);
                break;
            case FuzzAuth.ValidBearer:
                headers.TryAddWithoutValidation("Authorization", $"Bearer {keys.Valid}");
                break;
            case FuzzAuth.KeyWithWhitespace:
                headers.TryAddWithoutValidation("X-Api-Key", $"  {keys.Valid}\t ");
                break;
            case FuzzAuth.WrongKey:
                headers.Add("X-Api-Key", "sk_live_" + new string('0', 40));
                break;
            case FuzzAuth.EmptyBearer:
                headers.TryAddWithoutValidation("Authorization", "Bearer ");
                break;
            case FuzzAuth.BearerWithoutSpace:
                headers.TryAddWithoutValidation("Authorization", "Bearer" + keys.Valid);
                break;
            case FuzzAuth.TwoKeys:
                headers.TryAddWithoutValidation("X-Api-Key", [keys.Valid, "sk_live_other"]);
                break;
            case FuzzAuth.HugeKey:
                headers.TryAddWithoutValidation("X-Api-Key", new string('k', 10 * 1024));
                break;
            case FuzzAuth.InactiveKey:
                headers.Add("X-Api-Key", keys.Inactive);
                break;
            case FuzzAuth.BasicScheme:
                headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keys.Valid}:x")));
                break;
            case FuzzAuth.WebhookSecret:
                headers.Add("Unipile-Auth", keys.WebhookSecret);
                break;
            case FuzzAuth.WrongWebhookSecret:
                headers.Add("Unipile-Auth", keys.WebhookSecret + "x");
                break;
            case FuzzAuth.None:
            default:
                break;
        }
    }

    /// <summary>Every rule one response must keep; each broken rule is one finding.</summary>
    private static IEnumerable<Finding> Check(FuzzRequest request, int status, string contentType, string body)
    {
        if (status >= 500)
        {
            yield return new Finding("status >= 500", request, status, body);
        }
        if (request.Expected is { } expected && status != expected && status < 500)
        {
            yield return new Finding($"expected {expected}", request, status, body);
        }
        if (request.MustNotBe400 && status == 400)
        {
            yield return new Finding("400 for well-formed JSON (a wrong value is 422)", request, status, body);
        }
        if (status is >= 200 and < 300 || request.Method == "HEAD" || status == 204)
        {
            yield break;
        }
        if (ExceptionMarkers.FirstOrDefault(marker => body.Contains(marker, StringComparison.Ordinal)) is { } leaked)
        {
            yield return new Finding($"exception text ({leaked.Trim()}) in the error", request, status, body);
        }
        if (EnvelopeProblem(status, contentType, body) is { } problem)
        {
            yield return new Finding($"not the error envelope: {problem}", request, status, body);
        }
        else if (FieldErrorNotNamingItsField(body) is { } error)
        {
            yield return new Finding($"exception text? a field error that does not name its field: {error}", request, status, body);
        }
    }

    /// <summary>Null when the body is exactly <c>{"success": false, "message": "…"}</c> plus what the status allows.</summary>
    private static string? EnvelopeProblem(int status, string contentType, string body)
    {
        if (body.Length == 0)
        {
            // Kestrel answers a request it cannot parse (a NUL in the path) with an empty 400 before any middleware runs
            return status == 400 ? null : "empty body";
        }
        if (!contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return $"content type {contentType}";
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return "body is not JSON";
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "body is not an object";
        }
        if (!root.TryGetProperty("success", out var success) || success.ValueKind != JsonValueKind.False)
        {
            return "success is not false";
        }
        if (!root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || message.GetString()!.Trim().Length == 0)
        {
            return "no message";
        }
        var allowed = new HashSet<string>(["success", "message"], StringComparer.Ordinal);
        if (status == 422)
        {
            allowed.Add("errors");
            if (message.GetString() == "The given data was invalid." &&
                (!root.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object || !errors.EnumerateObject().Any()))
            {
                return "a validation 422 without errors";
            }
        }
        if (status == 429)
        {
            allowed.Add("retry_after");
            if (!root.TryGetProperty("retry_after", out var retry) || retry.ValueKind != JsonValueKind.Number)
            {
                return "a 429 without retry_after";
            }
        }
        return root.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !allowed.Contains(name)) is { } extra ? $"unexpected member {extra}" : null;
    }

    /// <summary>
    /// Validation messages name their field ("The name field…", "The per_page must…"); a message that does not is
    /// usually an exception's text that the validator passed on (a time zone lookup's "…does not have permission…").
    /// </summary>
    private static string? FieldErrorNotNamingItsField(string body)
    {
        if (body.Length == 0)
        {
            return null;
        }
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var field in errors.EnumerateObject())
        {
            var names = new[] { field.Name, field.Name.Replace('_', ' '), field.Name.Replace("_", "", StringComparison.Ordinal), field.Name.Split('_')[0] };
            foreach (var message in field.Value.EnumerateArray().Select(m => m.ToString()))
            {
                if (!names.Any(name => message.Contains(name, StringComparison.OrdinalIgnoreCase)))
                {
                    return $"{field.Name}: {message}";
                }
            }
        }
        return null;
    }

    /// <summary>Afterwards: ready, a normal request works, the webhook inbox drains (junk set aside), and no background job failed.</summary>
    private static async Task<List<Finding>> HealthAfterwardsAsync(FuzzApp app, HttpClient client, string key)
    {
        var findings = new List<Finding>();
        var ready = await client.GetAsync("/health/ready", Ct);
        if (ready.StatusCode != HttpStatusCode.OK)
        {
            findings.Add(new Finding("afterwards: /health/ready is not 200", null, (int)ready.StatusCode, await ready.Content.ReadAsStringAsync(Ct)));
        }
        using var account = new HttpRequestMessage(HttpMethod.Get, "/api/v1/account") { Headers = { { "X-Api-Key", key } } };
        var normal = await client.SendAsync(account, Ct);
        if (normal.StatusCode != HttpStatusCode.OK)
        {
            findings.Add(new Finding("afterwards: GET /api/v1/account is not 200", null, (int)normal.StatusCode, await normal.Content.ReadAsStringAsync(Ct)));
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        var deadline = TimeProvider.System.GetTimestamp() + 15 * TimeProvider.System.TimestampFrequency;
        // junk is set aside with its error, for inspection; nothing may be left waiting
        while (await db.WebhookInbox.AnyAsync(i => i.SetAsideAt == null, Ct) && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Delay(100, Ct);
        }
        var stuck = await db.WebhookInbox.AsNoTracking().Where(i => i.SetAsideAt == null || i.LastError == null).Select(i => i.Body).ToListAsync(Ct);
        if (stuck.Count > 0)
        {
            findings.Add(new Finding($"afterwards: {stuck.Count} webhooks still in the inbox after 15 s", null, 0,
                string.Join(" | ", stuck.Select(body => FuzzRequest.Excerpt(body, 100)))));
        }

        // a failed request is already a 5xx finding; a failed background run is not visible any other way
        findings.AddRange(app.Logs.Lines
            .Where(line => line.StartsWith("Error", StringComparison.Ordinal) && !line.Contains("UnhandledExceptionLogger", StringComparison.Ordinal))
            .Select(line => new Finding("afterwards: a background job logged an error", null, 0, line.Split('\n')[0])));

        var orphans = await app.OrphanedAccountsAsync();
        findings.AddRange(orphans.Select(id => new Finding(OrphanFinding, null, 0, id)));
        return findings;
    }

    private static string Report(int seed, int sent, SortedDictionary<string, int> statuses, List<Finding> findings, long started)
    {
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"fuzz: seed {seed}, {sent} requests in {elapsed.TotalSeconds:F1} s")
            .AppendLine(CultureInfo.InvariantCulture, $"fuzz: responses by status class: {string.Join(", ", statuses.Select(s => $"{s.Key} {s.Value}"))}")
            .AppendLine(CultureInfo.InvariantCulture, $"fuzz: responses >= 500: {findings.Count(f => f.Kind == "status >= 500")} (must be 0)");
        var groups = findings.GroupBy(f => f.Key).ToList();
        var listed = groups.Count > MaxListed ? $", the first {MaxListed}" : "";
        report.AppendLine(CultureInfo.InvariantCulture, $"fuzz: {findings.Count} findings in {groups.Count} distinct groups{listed} (kind | method route | status | message):");
        foreach (var group in groups.OrderBy(g => Severity(g.First().Kind)).Take(MaxListed))
        {
            var first = group.First();
            report.AppendLine(CultureInfo.InvariantCulture, $"  [{group.Count()}x] {group.Key}");
            if (first.Request is { } request)
            {
                report.AppendLine(CultureInfo.InvariantCulture, $"      e.g. #{request.Index} {request.Method} {FuzzRequest.Excerpt(request.Path, 160)} ({request.InputClass}; auth {request.Auth}; " +
                    $"content type {request.ContentType ?? "none"}{(request.Chunked ? ", chunked" : "")})");
                report.AppendLine(CultureInfo.InvariantCulture, $"      body: {request.BodyExcerpt}");
                var classes = group.Select(f => f.Request!.InputClass).Distinct(StringComparer.Ordinal).ToList();
                if (classes.Count > 1)
                {
                    report.AppendLine(CultureInfo.InvariantCulture, $"      inputs: {FuzzRequest.Excerpt(string.Join("; ", classes), 400)}");
                }
            }
            report.AppendLine(CultureInfo.InvariantCulture, $"      response: {FuzzRequest.Excerpt(first.ResponseBody, 300)}");
        }
        return report.ToString();
    }

    /// <summary>Failures first, then broken envelopes and leaks, then the state afterwards, then unexpected statuses.</summary>
    private static int Severity(string kind) => kind switch
    {
        "status >= 500" => 0,
        _ when kind.StartsWith("exception text", StringComparison.Ordinal) => 1,
        _ when kind.StartsWith("not the error envelope", StringComparison.Ordinal) => 2,
        _ when kind.StartsWith("afterwards", StringComparison.Ordinal) => 3,
        _ when kind.StartsWith("no response", StringComparison.Ordinal) => 4,
        _ => 5,
    };

    private static void Log(string text) => TestReport.Line(text);

    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>A body sent without Content-Length (chunked), so only reading it can find it too large.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
