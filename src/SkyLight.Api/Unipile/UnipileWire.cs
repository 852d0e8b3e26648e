using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SkyLight.Api.Unipile;

/// <summary>Unipile's JSON: snake_case both ways, unknown fields ignored, nulls left out of requests.</summary>
internal static class UnipileJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // a null where Unipile promised a value is an answer we do not understand, not a crash later on
        RespectNullableAnnotations = true,
    };
}

internal static class UnipileIds
{
    /// <summary>
    /// Unipile's ids are short printable ASCII; anything else (a NUL, a newline, a megabyte) is no account of ours,
    /// and is answered as unknown without asking the database or Unipile.
    /// </summary>
    public static bool IsWellFormed(string id) => id.Length is > 0 and <= 200 && id.All(c => c is > ' ' and < '\x7f');
}

internal static class UnipileProvider
{
    public const string WhatsApp = "WHATSAPP";
    public const string Telegram = "TELEGRAM";
    public const string Instagram = "INSTAGRAM";
}

/// <summary>The body of connect and reconnect. Its printed form leaves the password out.</summary>
internal sealed record ConnectRequest(string Provider)
{
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? Country { get; init; }
    public string? UserAgent { get; init; }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Provider = ").Append(Provider).Append(", Username = ").Append(Username).Append(", Country = ").Append(Country);
        return true;
    }
}

internal enum ConnectResult { Created, Reconnected, CheckpointRequired }

/// <summary>What a connect, reconnect or checkpoint call led to, from Unipile's <c>object</c> discriminator.</summary>
internal sealed record ConnectOutcome(ConnectResult Result, string AccountId, UnipileCheckpoint? Checkpoint);

/// <summary><c>checkpoint</c>: QRCODE carries <c>qrcode</c>; 2FA may carry <c>source</c> (SMS, APP).</summary>
internal sealed record UnipileCheckpoint(string Type, string? Qrcode, string? Source);

internal sealed record UnipileAccount(string Id, string Type, string? Name, string? CreatedAt, ConnectionParams? ConnectionParams, IReadOnlyList<AccountSource>? Sources)
{
    /// <summary>The messaging source's status (OK, CONNECTING, CREDENTIALS, ERROR, STOPPED, PERMISSIONS).</summary>
    public string? Status => Sources is [var first, ..] ? first.Status : null;

    public ImParams? Im => ConnectionParams?.Im;
}

internal sealed record ConnectionParams(ImParams? Im);

internal sealed record ImParams(string? PhoneNumber, string? UserId, string? Username, string? Id);

internal sealed record AccountSource(string Id, string Status);

internal sealed record AccountPage(IReadOnlyList<UnipileAccount> Items, string? Cursor);

internal sealed record WebhookRegistration(string RequestUrl, string Source, string Name, IReadOnlyList<WebhookHeader> Headers)
{
    public string Format { get; init; } = "json";
    public bool Enabled { get; init; } = true;

    // the headers carry our webhook secret
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("RequestUrl = ").Append(RequestUrl).Append(", Source = ").Append(Source).Append(", Name = ").Append(Name);
        return true;
    }
}

internal sealed record WebhookHeader(string Key, string Value);

internal sealed record UnipileWebhook(string Id, string? Name, string RequestUrl, bool Enabled, IReadOnlyList<WebhookHeader>? Headers);
