using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>
/// <see cref="SkyLightWebhook.Verify"/> on deliveries built here the way the service signs them (HMAC-SHA256 of the raw
/// body keyed with the whole whsec_ string, lower hex): what passes, and each reason a delivery does not.
/// </summary>
public sealed class SkyLightWebhookVerifyTests
{
    private const string Secret = "whsec_0123456789abcdefghijABCDEFGHIJ0123456789";
    private const string OtherSecret = "whsec_ZYXWVUTSRQponmlkjihg9876543210ZYXWVUTSRQ";
    private static readonly DateTimeOffset Now = new(2026, 3, 11, 7, 0, 0, TimeSpan.Zero);
    private static readonly Guid DeliveryId = Guid.Parse("5b0f8a2e-4c1d-4f7a-9e3b-2a6c8d0e1f47");

    private readonly FakeTimeProvider _time = new(Now);

    [Fact]
    public void AGoodSignaturePassesAndTheBodyIsRead()
    {
        var body = Body(Now);

        var delivery = SkyLightWebhook.Verify(body, Sign(body, Secret), Stamp(Now), Secret, time: _time);

        Assert.Equal((WebhookEvents.Test, DeliveryId, Now), (delivery.Event, delivery.DeliveryId, delivery.Timestamp));
        Assert.Equal(new WebhookTestData(7, "A test event"), delivery.Test);
        Assert.Null(delivery.Channel);
        Assert.Equal(7, delivery.Data.GetProperty("webhook_id").GetInt32());
    }

    [Fact]
    public void AChannelEventsDataIsReadTyped()
    {
        const string Data = """
            {"id":12,"type":"whatsapp","username":"+966501234567","is_connected":false,"sync_status":"CREDENTIALS","last_synced_at":"2026-03-11T09:59:00+03:00",
             "status_reason":"logged_out","status_changed_at":"2026-03-11T10:00:00+03:00","event_id":42,"event_type":"channel.status_changed",
             "reason":"logged_out","source":"webhook","previous_sync_status":"OK","previous_is_connected":true,"account_id":"acc_1",
             "occurred_at":"2026-03-11T10:00:00+03:00"}
            """;
        var body = Body(Now, WebhookEvents.ChannelStatusChanged, Data);

        var delivery = SkyLightWebhook.Verify(body, Sign(body, Secret), Stamp(Now), Secret, time: _time);

        var channel = Assert.IsType<WebhookChannelData>(delivery.Channel);
        Assert.Equal((12, "whatsapp", 42L, "logged_out", "OK", "CREDENTIALS", false), (channel.Id, channel.Type, channel.EventId, channel.Reason,
            channel.PreviousSyncStatus, channel.SyncStatus, channel.IsConnected));
        Assert.Equal(Now, channel.OccurredAt);
        Assert.Null(delivery.Test);
    }

    [Fact]
    public void AnotherSecretsSignatureDoesNotPass()
    {
        var body = Body(Now);

        var failure = Failure(body, Sign(body, OtherSecret), Stamp(Now));

        Assert.Equal(WebhookVerificationFailure.SignatureMismatch, failure);
    }

    [Fact]
    public void ABodyChangedAfterSigningDoesNotPass()
    {
        var body = Body(Now);
        var signature = Sign(body, Secret);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"webhook_id\":7", "\"webhook_id\":8", StringComparison.Ordinal));

        Assert.Equal(WebhookVerificationFailure.SignatureMismatch, Failure(tampered, signature, Stamp(Now)));
        Assert.Equal(WebhookVerificationFailure.None, Failure(body, signature, Stamp(Now)));
    }

    /// <summary>During a rotation's grace period the header carries the new secret's signature and the previous one's.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OfTwoSignaturesOneValidIsEnough(bool validFirst)
    {
        var body = Body(Now);
        var (valid, other) = (Sign(body, Secret), Sign(body, OtherSecret));

        var header = validFirst ? $"{valid},{other}" : $"{other}, {valid}";

        Assert.Equal(WebhookVerificationFailure.None, Failure(body, header, Stamp(Now)));
        Assert.Equal(WebhookVerificationFailure.SignatureMismatch, Failure(body, $"{other},{other}", Stamp(Now)));
    }

    [Theory]
    [InlineData(-301, WebhookVerificationFailure.TimestampOutsideTolerance)]
    [InlineData(-300, WebhookVerificationFailure.None)]
    [InlineData(300, WebhookVerificationFailure.None)]
    [InlineData(301, WebhookVerificationFailure.TimestampOutsideTolerance)]
    [InlineData(-86_400, WebhookVerificationFailure.TimestampOutsideTolerance)]
    public void ATimestampMoreThanFiveMinutesFromNowDoesNotPass(int secondsFromNow, WebhookVerificationFailure expected)
    {
        var sent = Now.AddSeconds(secondsFromNow);
        var body = Body(sent);

        Assert.Equal(expected, Failure(body, Sign(body, Secret), Stamp(sent)));
    }

    [Fact]
    public void TheToleranceCanBeChosen()
    {
        var sent = Now.AddMinutes(-20);
        var body = Body(sent);

        Assert.True(SkyLightWebhook.TryVerify(body, Sign(body, Secret), Stamp(sent), Secret, out _, out _, TimeSpan.FromMinutes(30), _time));
        Assert.False(SkyLightWebhook.TryVerify(body, Sign(body, Secret), Stamp(sent), Secret, out _, out _, TimeSpan.FromMinutes(10), _time));
    }

    /// <summary>The header is not signed: a recorded delivery sent again under a fresh timestamp header fails on the body's own.</summary>
    [Fact]
    public void AReplayUnderAFreshTimestampHeaderDoesNotPass()
    {
        var recorded = Body(Now.AddHours(-1));

        var failure = Failure(recorded, Sign(recorded, Secret), Stamp(Now));

        Assert.Equal(WebhookVerificationFailure.TimestampMismatch, failure);
    }

    [Theory]
    [InlineData(null, WebhookVerificationFailure.MissingSignature)]
    [InlineData("", WebhookVerificationFailure.MissingSignature)]
    [InlineData("  ", WebhookVerificationFailure.MissingSignature)]
    [InlineData("sha256=", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("sha256=not-hex", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("v1=0123", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("sha256=zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", WebhookVerificationFailure.MalformedSignature)]
    [InlineData(",,", WebhookVerificationFailure.MalformedSignature)]
    [InlineData("sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", WebhookVerificationFailure.SignatureMismatch)]
    public void AMissingOrGarbledSignatureHeaderDoesNotPass(string? header, WebhookVerificationFailure expected)
    {
        var body = Body(Now);

        Assert.Equal(expected, Failure(body, header, Stamp(Now)));
    }

    [Fact]
    public void AGarbledValueNextToAValidSignatureIsSkipped()
    {
        var body = Body(Now);

        Assert.Equal(WebhookVerificationFailure.None, Failure(body, $"sha256=garbled,v2=future,{Sign(body, Secret)}", Stamp(Now)));
    }

    [Theory]
    [InlineData(null, WebhookVerificationFailure.MissingTimestamp)]
    [InlineData("", WebhookVerificationFailure.MissingTimestamp)]
    [InlineData("yesterday", WebhookVerificationFailure.MalformedTimestamp)]
    [InlineData("-1773212400", WebhookVerificationFailure.MalformedTimestamp)]
    [InlineData("1773212400.5", WebhookVerificationFailure.MalformedTimestamp)]
    [InlineData("99999999999999999999999", WebhookVerificationFailure.MalformedTimestamp)]
    public void AMissingOrGarbledTimestampHeaderDoesNotPass(string? header, WebhookVerificationFailure expected)
    {
        var body = Body(Now);

        Assert.Equal(expected, Failure(body, Sign(body, Secret), header));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"event":"webhook.test","timestamp":1773212400,"data":{}}""")]
    [InlineData("""{"event":"webhook.test","delivery_id":"5b0f8a2e-4c1d-4f7a-9e3b-2a6c8d0e1f47","timestamp":"1773212400","data":{}}""")]
    [InlineData("""{"event":"channel.connected","delivery_id":"5b0f8a2e-4c1d-4f7a-9e3b-2a6c8d0e1f47","timestamp":1773212400,"data":{"id":"twelve"}}""")]
    public void ASignedBodyThatIsNotADeliveryDoesNotPass(string text)
    {
        var body = Encoding.UTF8.GetBytes(text);

        Assert.Equal(WebhookVerificationFailure.MalformedBody, Failure(body, Sign(body, Secret), Stamp(Now)));
    }

    [Fact]
    public void VerifyThrowsWithTheReason()
    {
        var body = Body(Now);

        var error = Assert.Throws<WebhookVerificationException>(() => SkyLightWebhook.Verify(body, Sign(body, OtherSecret), Stamp(Now), Secret, time: _time));

        Assert.Equal(WebhookVerificationFailure.SignatureMismatch, error.Failure);
        Assert.Equal("No signature matches the body under this secret.", error.Message);
    }

    [Fact]
    public void TheSystemClockIsTheDefault()
    {
        var now = TimeProvider.System.GetUtcNow();
        var body = Body(now);

        Assert.True(SkyLightWebhook.TryVerify(body, Sign(body, Secret), Stamp(now), Secret, out _, out _));
        Assert.Throws<ArgumentException>(() => SkyLightWebhook.Verify(body, Sign(body, Secret), Stamp(now), ""));
    }

    private WebhookVerificationFailure Failure(byte[] body, string? signature, string? timestamp)
    {
        var passed = SkyLightWebhook.TryVerify(body, signature, timestamp, Secret, out var delivery, out var failure, time: _time);
        Assert.Equal(passed, delivery is not null);
        Assert.Equal(passed, failure == WebhookVerificationFailure.None);
        return failure;
    }

    /// <summary>A delivery's body as the service writes it: event, delivery_id, timestamp (Unix seconds), data.</summary>
    private static byte[] Body(DateTimeOffset sent, string type = WebhookEvents.Test, string data = """{"webhook_id":7,"message":"A test event"}""") =>
        Encoding.UTF8.GetBytes($$"""{"event":"{{type}}","delivery_id":"{{DeliveryId:D}}","timestamp":{{sent.ToUnixTimeSeconds()}},"data":{{data}}}""");

    private static string Sign(byte[] body, string secret) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static string Stamp(DateTimeOffset sent) => sent.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
