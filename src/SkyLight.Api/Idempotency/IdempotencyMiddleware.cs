using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on every POST under /api/v1: the first request with a key runs and its outcome is stored; a
/// repeat gets that outcome again (<c>Idempotent-Replayed: true</c>) without running. The key is claimed by a unique
/// index, so of two nodes only one runs it; the other answers 409 until the outcome is stored. Outcomes that say
/// "try again" (5xx, an exception, 429, a 422 before any work) are not stored: the client's retry runs again.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next, IServiceScopeFactory scopes, TimeProvider time, IOptions<IdempotencyOptions> options,
    ILogger<IdempotencyMiddleware> log)
{
    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context, CurrentWorkspace workspace)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !workspace.IsSet || !request.Path.StartsWithSegments("/api/v1")
            || !request.Headers.TryGetValue(KeyHeader, out var presented))
        {
            await next(context);
            return;
        }
        if (Parse(presented) is not { } key)
        {
            await Problem(context, StatusCodes.Status400BadRequest, "The Idempotency-Key header must be 1 to 255 visible ASCII characters.");
            return;
        }

        request.EnableBuffering();
        var fingerprint = await FingerprintAsync(request, context.RequestAborted);
        var path = request.Path.Value!.TrimEnd('/').ToLowerInvariant();
        var claim = await ClaimAsync(workspace.Id, request.Method, path, key, fingerprint, context.RequestAborted);
        switch (claim)
        {
            case { Outcome: ClaimOutcome.OtherRequest }:
                await Problem(context, StatusCodes.Status422UnprocessableEntity,
                    "This Idempotency-Key was already used with another request. Use a new key for a new request.");
                return;
            case { Outcome: ClaimOutcome.Running }:
                context.Response.Headers.RetryAfter = "1";
                await Problem(context, StatusCodes.Status409Conflict,
                    "A request with this Idempotency-Key is still running. Retry after it finished to get its outcome.", retryAfter: 1);
                return;
            case { Outcome: ClaimOutcome.Done, Record: { } done }:
                await ReplayAsync(context, done);
                return;
            default:
                break;
        }

        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await next(context);
        }
        catch
        {
            await ReleaseAsync(claim.Record!.Id);   // a failure is not an outcome: a retry runs again
            throw;
        }
        finally
        {
            context.Response.Body = original;
        }
        var response = context.Response;
        var body = captured.ToArray();
        if (Stored(response.StatusCode, body))
        {
            await StoreAsync(claim.Record!.Id, response, body);
        }
        else
        {
            await ReleaseAsync(claim.Record!.Id);
        }
        await original.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>2xx and 4xx are outcomes; a 5xx, a 429 (try later) or a field validation 422 (nothing was done) is not.</summary>
    private static bool Stored(int status, byte[] body) =>
        status is >= 200 and < 500 && status != StatusCodes.Status429TooManyRequests
        && !(status == StatusCodes.Status422UnprocessableEntity && body.AsSpan().IndexOf("\"errors\""u8) >= 0);

    /// <summary>The key, unquoted; null when it is not 1–255 visible ASCII characters (the draft's "…" form is accepted).</summary>
    public static string? Parse(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count != 1 || values[0] is not { } value)
        {
            return null;
        }
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }
        return value.Length is >= 1 and <= 255 && value.All(c => c is >= '!' and <= '~') ? value : null;
    }

    private enum ClaimOutcome { Claimed, Done, Running, OtherRequest }

    private sealed record Claim(ClaimOutcome Outcome, IdempotencyRecord? Record);

    /// <summary>
    /// Inserts the claim; the unique index makes it atomic across nodes. A key already there is answered from what it
    /// holds, taken over when its lease lapsed (its node died) or its retention ended.
    /// </summary>
    private async Task<Claim> ClaimAsync(int workspaceId, string method, string path, string key, string fingerprint, CancellationToken ct)
    {
        for (var round = 0; ; round++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
            var now = time.GetUtcNow();
            var existing = await db.IdempotencyRecords.AsNoTracking()
                .SingleOrDefaultAsync(r => r.WorkspaceId == workspaceId && r.Method == method && r.Path == path && r.Key == key, ct);
            if (existing is null)
            {
                var record = new IdempotencyRecord
                {
                    WorkspaceId = workspaceId, Method = method, Path = path, Key = key, Fingerprint = fingerprint,
                    LeaseUntil = now + options.Value.Lease, CreatedAt = now, ExpiresAt = now + options.Value.Retention,
                };
                db.IdempotencyRecords.Add(record);
                try
                {
                    await db.SaveChangesAsync(ct);
                    return new Claim(ClaimOutcome.Claimed, record);
                }
                catch (DbUpdateException) when (round < 3)
                {
                    continue;   // another request claimed it first: answer from its record
                }
            }
            else if (existing.ExpiresAt <= now || (!existing.IsDone && existing.LeaseUntil <= now))
            {
                // forgotten, or held by a node that died: the first to delete it claims it anew
                await db.IdempotencyRecords.Where(r => r.Id == existing.Id && r.ExpiresAt == existing.ExpiresAt && r.LeaseUntil == existing.LeaseUntil)
                    .ExecuteDeleteAsync(ct);
                continue;
            }
            else if (existing.Fingerprint != fingerprint)
            {
                return new Claim(ClaimOutcome.OtherRequest, existing);
            }
            else
            {
                return new Claim(existing.IsDone ? ClaimOutcome.Done : ClaimOutcome.Running, existing);
            }
        }
    }

    private async Task StoreAsync(long id, HttpResponse response, byte[] body)
    {
        await using var scope = scopes.CreateAsyncScope();
        var now = time.GetUtcNow();
        var retention = options.Value.Retention;
        var (status, type, location) = (response.StatusCode, response.ContentType, response.Headers.Location.ToString());
        await scope.ServiceProvider.GetRequiredService<SkyLightDb>().IdempotencyRecords.Where(r => r.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.StatusCode, status).SetProperty(r => r.ContentType, type)
                .SetProperty(r => r.Location, location.Length == 0 ? null : location).SetProperty(r => r.Body, body)
                .SetProperty(r => r.LeaseUntil, (DateTimeOffset?)null).SetProperty(r => r.ExpiresAt, now + retention), CancellationToken.None);
    }

    private async Task ReleaseAsync(long id)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SkyLightDb>().IdempotencyRecords.Where(r => r.Id == id).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "An Idempotency-Key claim could not be released; it lapses with its lease");
        }
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record)
    {
        var response = context.Response;
        response.StatusCode = record.StatusCode!.Value;
        if (record.ContentType is { } type)
        {
            response.ContentType = type;
        }
        if (record.Location is { } location)
        {
            response.Headers.Location = location;
        }
        response.Headers[ReplayedHeader] = "true";
        if (record.Body is { Length: > 0 } body)
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>SHA-256 of the body's canonical JSON (keys sorted, no whitespace), so a re-serialized retry still matches.</summary>
    private static async Task<string> FingerprintAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        request.Body.Position = 0;
        var bytes = buffer.ToArray();
        try
        {
            if (bytes.Length > 0 && JsonNode.Parse(bytes) is { } node)
            {
                bytes = Encoding.UTF8.GetBytes(Canonical(node));
            }
        }
        catch (JsonException)
        {
            // not JSON: its bytes are its fingerprint (the endpoint answers it as it would without a key)
        }
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => "{" + string.Join(",", obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray array => "[" + string.Join(",", array.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private static async Task Problem(HttpContext context, int status, string message, int? retryAfter = null)
    {
        context.Response.StatusCode = status;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Detail = message };
        if (retryAfter is { } seconds)
        {
            problem.Extensions[Errors.EnvelopeProblemWriter.RetryAfterExtension] = seconds;
        }
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}

internal static class IdempotencySetup
{
    public static WebApplicationBuilder AddIdempotency(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    /// <summary>The key's claim expires with its retention: what is past it goes with the journal's hourly purge.</summary>
    public static Task<int> PurgeAsync(SkyLightDb db, DateTimeOffset now, CancellationToken ct) =>
        db.IdempotencyRecords.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct);
}
