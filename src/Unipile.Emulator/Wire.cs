using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Unipile.Emulator;

/// <summary>
/// Unipile's wire conventions, written from its documentation (never from the client's records, so a
/// misunderstanding cannot cancel out on both sides).
/// </summary>
internal static class Wire
{
    public const string WhatsApp = "WHATSAPP";
    public const string Telegram = "TELEGRAM";
    public const string Instagram = "INSTAGRAM";

    /// <summary>Unipile's error envelope: <c>{title, detail, instance, type, status}</c>, status equal to the HTTP code.</summary>
    public static IResult Error(HttpContext http, int status, string type, string title, string? detail = null) =>
        Results.Json(new { title, detail, instance = http.Request.Path.Value, type, status }, statusCode: status);

    public static IResult BadRequest(HttpContext http, string type, string detail) => Error(http, 400, type, "Bad Request", detail);

    public static IResult NotFound(HttpContext http, string detail) => Error(http, 404, "errors/resource_not_found", "Not Found", detail);

    /// <summary>128 random bits as 22 URL-safe characters, the shape of Unipile's ids.</summary>
    public static string NewId() => Base64Url(RandomNumberGenerator.GetBytes(16));

    public static string Timestamp(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>WhatsApp multi-device QR text: server ref, then noise key, identity key and adv secret in base64.</summary>
    public static string WhatsAppQr() =>
        $"2@{Convert.ToBase64String(RandomNumberGenerator.GetBytes(60))},{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}," +
        $"{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))},{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}";

    /// <summary>Telegram's QR login link with a base64url token (auth.exportLoginToken).</summary>
    public static string TelegramQr() => $"tg://login?token={Base64Url(RandomNumberGenerator.GetBytes(32))}";

    public static string Digits(int count) =>
        string.Concat(Enumerable.Range(0, count).Select(i => (char)('0' + RandomNumberGenerator.GetInt32(i == 0 ? 1 : 0, 10))));

    public static string? Text(this JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The strings of a JSON array; null when it is absent, or holds anything but strings.</summary>
    public static List<string>? Strings(this JsonObject body, string name) =>
        body[name] is JsonArray array && array.All(item => item is JsonValue value && value.TryGetValue<string>(out _))
            ? [.. array.Select(item => item!.GetValue<string>())]
            : null;

    /// <summary>Reads a JSON object body; null when the body is not one (Unipile answers 400 malformed_request).</summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var body = await JsonNode.ParseAsync(request.Body, cancellationToken: ct) as JsonObject;
            _ = body?.Count;   // materialises the properties now: a repeated key throws here, not later
            return body;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
