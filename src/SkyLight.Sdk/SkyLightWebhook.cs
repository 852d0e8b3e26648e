using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SkyLight.Sdk;

/// <summary>
/// Checks that a webhook delivery comes from SkyLight, unchanged and recent, and reads it. Give it the body's raw bytes
/// exactly as received (before any JSON parsing), the <c>X-Skylight-Signature</c> and <c>X-Skylight-Timestamp</c> headers,
/// and the endpoint's secret.
/// </summary>
/// <remarks>
/// A delivery passes when one of the header's <c>sha256=</c> values (several during a secret rotation's grace period) is
/// the HMAC-SHA256 of the body keyed with the secret, compared in fixed time; when the timestamp header is within the
/// tolerance of now; and when the body's own <c>timestamp</c> (signed) equals the header's (not signed), so a recorded
/// delivery replayed later with a fresh header fails. A delivery can still arrive twice (retries, replays): drop
/// duplicates by <see cref="WebhookEvent.DeliveryId"/>.
/// </remarks>
public static class SkyLightWebhook
{
    /// <summary>The header with the signatures: <c>sha256=&lt;hex&gt;</c>, comma-separated, the newest secret's first.</summary>
    public const string SignatureHeader = "X-Skylight-Signature";

    /// <summary>The header with the attempt's time in Unix seconds.</summary>
    public const string TimestampHeader = "X-Skylight-Timestamp";

    /// <summary>The header with the event type.</summary>
    public const string EventHeader = "X-Skylight-Event";

    /// <summary>The header with the delivery id (a UUID, the same on every attempt and replay).</summary>
    public const string DeliveryHeader = "X-Skylight-Delivery";

    /// <summary>How far the timestamp may be from now unless told otherwise: 5 minutes.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    private const string Scheme = "sha256=";
    private const int HashBytes = 32;

    /// <summary>Checks a delivery and reads it; throws <see cref="WebhookVerificationException"/> (with its reason) when it does not pass.</summary>
    /// <param name="body">The request body's raw bytes, exactly as received.</param>
    /// <param name="signatureHeader">The <c>X-Skylight-Signature</c> header (its values joined by commas, if it came more than once).</param>
    /// <param name="timestampHeader">The <c>X-Skylight-Timestamp</c> header.</param>
    /// <param name="secret">The endpoint's secret, the whole <c>whsec_…</c> string.</param>
    /// <param name="tolerance">How far the timestamp may be from now (default <see cref="DefaultTolerance"/>).</param>
    /// <param name="time">The clock to compare with (default the system's).</param>
    /// <returns>The delivery, read.</returns>
    public static WebhookEvent Verify(ReadOnlySpan<byte> body, string? signatureHeader, string? timestampHeader, string secret,
        TimeSpan? tolerance = null, TimeProvider? time = null) =>
        TryVerify(body, signatureHeader, timestampHeader, secret, out var webhookEvent, out var failure, tolerance, time)
            ? webhookEvent
            : throw new WebhookVerificationException(failure);

    /// <summary>Checks a delivery and reads it; false, with the reason, when it does not pass.</summary>
    /// <param name="body">The request body's raw bytes, exactly as received.</param>
    /// <param name="signatureHeader">The <c>X-Skylight-Signature</c> header (its values joined by commas, if it came more than once).</param>
    /// <param name="timestampHeader">The <c>X-Skylight-Timestamp</c> header.</param>
    /// <param name="secret">The endpoint's secret, the whole <c>whsec_…</c> string.</param>
    /// <param name="webhookEvent">The delivery, read, when it passes.</param>
    /// <param name="failure">Why it did not pass; <see cref="WebhookVerificationFailure.None"/> when it did.</param>
    /// <param name="tolerance">How far the timestamp may be from now (default <see cref="DefaultTolerance"/>).</param>
    /// <param name="time">The clock to compare with (default the system's).</param>
    public static bool TryVerify(ReadOnlySpan<byte> body, string? signatureHeader, string? timestampHeader, string secret,
        [NotNullWhen(true)] out WebhookEvent? webhookEvent, out WebhookVerificationFailure failure, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var allowed = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(allowed, TimeSpan.Zero, nameof(tolerance));
        webhookEvent = null;
        failure = Check(body, signatureHeader, timestampHeader, secret, allowed, time ?? TimeProvider.System, out var timestamp);
        if (failure != WebhookVerificationFailure.None)
        {
            return false;
        }
        // the body is signed and the header is not: they must agree, or an old body could travel under a fresh header
        var read = Read(body);
        failure = read is null ? WebhookVerificationFailure.MalformedBody
            : read.Timestamp.ToUnixTimeSeconds() != timestamp ? WebhookVerificationFailure.TimestampMismatch
            : WebhookVerificationFailure.None;
        webhookEvent = failure == WebhookVerificationFailure.None ? read : null;
        return webhookEvent is not null;
    }

    /// <summary>The header's signature, then its timestamp against the clock.</summary>
    private static WebhookVerificationFailure Check(ReadOnlySpan<byte> body, string? signatureHeader, string? timestampHeader, string secret,
        TimeSpan tolerance, TimeProvider time, out long timestamp)
    {
        timestamp = 0;
        if (string.IsNullOrWhiteSpace(signatureHeader))
        {
            return WebhookVerificationFailure.MissingSignature;
        }
        if (string.IsNullOrWhiteSpace(timestampHeader))
        {
            return WebhookVerificationFailure.MissingTimestamp;
        }
        if (!long.TryParse(timestampHeader.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out timestamp))
        {
            return WebhookVerificationFailure.MalformedTimestamp;
        }

        var key = Encoding.UTF8.GetBytes(secret);
        Span<byte> expected = stackalloc byte[HashBytes];
        HMACSHA256.HashData(key, body, expected);
        Span<byte> given = stackalloc byte[HashBytes];
        var wellFormed = 0;
        var matched = false;
        foreach (var range in signatureHeader.AsSpan().Split(','))
        {
            var value = signatureHeader.AsSpan(range).Trim();
            // another scheme (a future one) is skipped; a sha256 value that is not 64 hex digits counts for nothing
            if (!value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value.Length != Scheme.Length + (2 * HashBytes) ||
                Convert.FromHexString(value[Scheme.Length..], given, out _, out var written) != OperationStatus.Done || written != HashBytes)
            {
                continue;
            }
            wellFormed++;
            matched |= CryptographicOperations.FixedTimeEquals(expected, given);
        }
        if (wellFormed == 0)
        {
            return WebhookVerificationFailure.MalformedSignature;
        }
        if (!matched)
        {
            return WebhookVerificationFailure.SignatureMismatch;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return Math.Abs((decimal)now - timestamp) > (decimal)tolerance.TotalSeconds ? WebhookVerificationFailure.TimestampOutsideTolerance : WebhookVerificationFailure.None;
    }

    /// <summary>The body's envelope, or null when it is not one.</summary>
    private static WebhookEvent? Read(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("event", out var type) || type.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("delivery_id", out var id) || !id.TryGetGuid(out var deliveryId) ||
                !root.TryGetProperty("timestamp", out var stamp) || stamp.ValueKind != JsonValueKind.Number || !stamp.TryGetInt64(out var seconds) ||
                seconds < DateTimeOffset.MinValue.ToUnixTimeSeconds() || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds() ||
                !root.TryGetProperty("data", out var data))
            {
                return null;
            }
            var name = type.GetString()!;
            var payload = data.Clone();
            return new WebhookEvent(name, deliveryId, DateTimeOffset.FromUnixTimeSeconds(seconds), payload)
            {
                Channel = name.StartsWith("channel.", StringComparison.Ordinal) && payload.ValueKind == JsonValueKind.Object
                    ? payload.Deserialize<WebhookChannelData>(ApiTransport.Json)
                    : null,
                Test = name == WebhookEvents.Test && payload.ValueKind == JsonValueKind.Object ? payload.Deserialize<WebhookTestData>(ApiTransport.Json) : null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A verified delivery: the body SkyLight signed.</summary>
/// <param name="Event">The event type (<see cref="WebhookEvents"/>; more may come).</param>
/// <param name="DeliveryId">The same on every attempt and replay of this delivery: drop duplicates by it.</param>
/// <param name="Timestamp">When this attempt was made (whole seconds).</param>
/// <param name="Data">The event's data, as sent; <see cref="Channel"/> and <see cref="Test"/> read the known kinds.</param>
public sealed record WebhookEvent(string Event, Guid DeliveryId, DateTimeOffset Timestamp, JsonElement Data)
{
    /// <summary>The data of a <c>channel.*</c> event, read; null for other events.</summary>
    public WebhookChannelData? Channel { get; init; }

    /// <summary>The data of a <c>webhook.test</c> event, read; null for other events.</summary>
    public WebhookTestData? Test { get; init; }
}

/// <summary>
/// The data of a <c>channel.*</c> delivery: the channel as the event left it, then the event itself. Order events by
/// <see cref="EventId"/> (deliveries can arrive out of order).
/// </summary>
/// <param name="Id">The channel's id.</param>
/// <param name="Type">whatsapp, telegram or instagram.</param>
/// <param name="Username">The channel's username or phone number; null once disconnected.</param>
/// <param name="IsConnected">is_connected after the event.</param>
/// <param name="SyncStatus">sync_status after the event; null once disconnected.</param>
/// <param name="LastSyncedAt">When the status last came from Unipile.</param>
/// <param name="StatusReason">Why the status changed (see <see cref="ChannelEvent.Reason"/>).</param>
/// <param name="StatusChangedAt">When the event happened, in the workspace's offset.</param>
/// <param name="EventId">The journal event's id (<see cref="ChannelEvent.Id"/>): grows in commit order.</param>
/// <param name="EventType">The event type, as in <see cref="WebhookEvent.Event"/>.</param>
/// <param name="Reason">Why (see <see cref="ChannelEvent.Reason"/>).</param>
/// <param name="Source">Who noticed or asked (see <see cref="ChannelEvent.Source"/>).</param>
/// <param name="PreviousSyncStatus">sync_status before the event; null for a channel the event created.</param>
/// <param name="PreviousIsConnected">is_connected before the event; null for a channel the event created.</param>
/// <param name="AccountId">The Unipile account the event concerns, if any.</param>
/// <param name="OccurredAt">When it happened, in the workspace's offset.</param>
public sealed record WebhookChannelData(int Id, string Type, string? Username, bool IsConnected, string? SyncStatus, DateTimeOffset? LastSyncedAt,
    string? StatusReason, DateTimeOffset? StatusChangedAt, long EventId, string EventType, string? Reason, string Source, string? PreviousSyncStatus,
    bool? PreviousIsConnected, string? AccountId, DateTimeOffset OccurredAt);

/// <summary>The data of a <c>webhook.test</c> delivery.</summary>
/// <param name="WebhookId">The endpoint tested.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record WebhookTestData(int WebhookId, string Message);

/// <summary>Why a delivery did not pass <see cref="SkyLightWebhook.Verify"/>.</summary>
public enum WebhookVerificationFailure
{
    /// <summary>It passed.</summary>
    None,

    /// <summary>No <c>X-Skylight-Signature</c> header.</summary>
    MissingSignature,

    /// <summary>The signature header holds no <c>sha256=</c> value of 64 hex digits.</summary>
    MalformedSignature,

    /// <summary>No signature in the header is the body's under this secret: another secret, or a changed body.</summary>
    SignatureMismatch,

    /// <summary>No <c>X-Skylight-Timestamp</c> header.</summary>
    MissingTimestamp,

    /// <summary>The timestamp header is not a whole number of Unix seconds.</summary>
    MalformedTimestamp,

    /// <summary>The timestamp is further from now than the tolerance: an old delivery replayed, or a clock far off.</summary>
    TimestampOutsideTolerance,

    /// <summary>The body's timestamp is not the header's: a signed body sent again under a fresh header.</summary>
    TimestampMismatch,

    /// <summary>The body is signed but is not a delivery's JSON (event, delivery_id, timestamp, data).</summary>
    MalformedBody,
}

/// <summary>A delivery did not pass <see cref="SkyLightWebhook.Verify"/>: answer 400 (or 401) and do not act on it.</summary>
public sealed class WebhookVerificationException : Exception
{
    /// <summary>Creates the exception for a failure.</summary>
    public WebhookVerificationException(WebhookVerificationFailure failure)
        : base(Describe(failure)) => Failure = failure;

    /// <summary>Why the delivery did not pass.</summary>
    public WebhookVerificationFailure Failure { get; }

    /// <summary>A sentence for each failure, for logs.</summary>
    public static string Describe(WebhookVerificationFailure failure) => failure switch
    {
        WebhookVerificationFailure.None => "The delivery passed verification.",
        WebhookVerificationFailure.MissingSignature => $"The {SkyLightWebhook.SignatureHeader} header is missing.",
        WebhookVerificationFailure.MalformedSignature => $"The {SkyLightWebhook.SignatureHeader} header holds no sha256= signature.",
        WebhookVerificationFailure.SignatureMismatch => "No signature matches the body under this secret.",
        WebhookVerificationFailure.MissingTimestamp => $"The {SkyLightWebhook.TimestampHeader} header is missing.",
        WebhookVerificationFailure.MalformedTimestamp => $"The {SkyLightWebhook.TimestampHeader} header is not a Unix time in seconds.",
        WebhookVerificationFailure.TimestampOutsideTolerance => "The delivery's timestamp is too far from now.",
        WebhookVerificationFailure.TimestampMismatch => "The body's timestamp is not the header's.",
        WebhookVerificationFailure.MalformedBody => "The body is not a SkyLight delivery.",
        _ => $"The delivery did not pass verification ({failure}).",
    };
}
