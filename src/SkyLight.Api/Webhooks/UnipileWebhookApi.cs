using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Webhooks;

/// <summary>
/// Where Unipile posts account_status webhooks. Checks the registered secret, stores the raw body (Unipile
/// sends no JSON content type for API-made webhooks), answers exactly 200 and applies it at once, in the background.
/// The stored row is the crash journal, deleted once applied: the receiving node claims it at once, and the inbox
/// (<see cref="WebhookInboxProcessor"/>) takes up whatever a crash or a failure left behind.
/// </summary>
internal static class UnipileWebhookApi
{
    public const string Path = "/webhooks/unipile";
    public const string SecretHeader = "Unipile-Auth";

    public static void MapUnipileWebhooks(this IEndpointRouteBuilder app) =>
        app.MapPost(Path, Receive).WithName("ReceiveUnipileWebhook").ExcludeFromDescription();

    private static async Task<Results<Ok, ProblemHttpResult>> Receive(
        HttpRequest request, SkyLightDb db, WebhookInboxProcessor inbox, TimeProvider time, IOptions<UnipileOptions> options,
        Observability.SkyLightMetrics metrics, CancellationToken ct)
    {
        if (!SecretMatches(request.Headers[SecretHeader], options.Value.WebhookSecret))
        {
            return TypedResults.Problem(detail: "Missing or invalid webhook secret.", statusCode: StatusCodes.Status401Unauthorized);
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var now = time.GetUtcNow();
        // kept as received for inspection, except NUL, which PostgreSQL text cannot hold (no JSON has a raw one)
        var body = (await reader.ReadToEndAsync(ct)).Replace('\0', '\uFFFD');
        var item = new WebhookInboxItem { Body = body, ReceivedAt = now, NextAttemptAt = now };
        db.WebhookInbox.Add(item);
        await db.SaveChangesAsync(ct);
        metrics.WebhookReceived();
        inbox.ProcessNow(item.Id);
        return TypedResults.Ok();   // exactly 200: Unipile retries anything else
    }

    private static bool SecretMatches(string? presented, string expected) =>
        presented is not null && expected.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
