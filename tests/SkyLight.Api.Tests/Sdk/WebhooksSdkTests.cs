using System.Net;
using SkyLight.Api.Tests.Notifications;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>
/// The SDK's <see cref="WebhooksClient"/> against the service over real HTTP, with deliveries going to the receiver on
/// loopback and checked there by <see cref="SkyLightWebhook.Verify"/> on the service's (fake) clock.
/// </summary>
public sealed class WebhooksSdkTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EndpointsAreCreatedReadListedUpdatedAndDeleted()
    {
        var client = await NewClientAsync();

        var created = await client.Webhooks.CreateAsync("Orders", "https://example.com/hooks",
            [WebhookEvents.ChannelConnected, WebhookEvents.ChannelDisconnected], Ct);
        var second = await client.Webhooks.CreateAsync("Everything", "https://example.com/all", [WebhookEvents.All], Ct);
        var read = await client.Webhooks.GetAsync(created.Id, Ct);
        var page = await client.Webhooks.ListAsync(perPage: 1, cancellationToken: Ct);
        var all = new List<WebhookEndpoint>();
        await foreach (var endpoint in client.Webhooks.ListAllAsync(Ct))
        {
            all.Add(endpoint);
        }
        var renamed = await client.Webhooks.UpdateAsync(created.Id, new WebhookEndpointUpdate { Name = "Orders v2", IsActive = false }, Ct);
        var resubscribed = await client.Webhooks.UpdateAsync(created.Id, new WebhookEndpointUpdate { Events = [WebhookEvents.ChannelStatusChanged] }, Ct);
        await client.Webhooks.DeleteAsync(second.Id, Ct);
        var gone = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.GetAsync(second.Id, Ct));
        var deletedTwice = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.DeleteAsync(second.Id, Ct));

        Assert.StartsWith("whsec_", created.Secret, StringComparison.Ordinal);
        Assert.Equal(("Orders", "https://example.com/hooks", true), (created.Name, created.Url, created.IsActive));
        Assert.Equal([WebhookEvents.ChannelConnected, WebhookEvents.ChannelDisconnected], created.Events);
        Assert.Equal(SkyLightApp.Start, created.CreatedAt);
        Assert.Null(read.Secret);   // shown once only
        Assert.Equal(created with { Secret = null, Events = read.Events }, read);
        Assert.Equal((second.Id, 1, 2, 2), (Assert.Single(page.Items).Id, page.CurrentPage, page.LastPage, page.Total));
        Assert.Equal([second.Id, created.Id], all.Select(e => e.Id));
        Assert.Equal(("Orders v2", false, "https://example.com/hooks"), (renamed.Name, renamed.IsActive, renamed.Url));
        Assert.Equal([WebhookEvents.ChannelStatusChanged], resubscribed.Events);
        Assert.Equal(("Orders v2", false), (resubscribed.Name, resubscribed.IsActive));   // only what the update set changed
        Assert.Equal((HttpStatusCode.NotFound, "Webhook endpoint not found."), (gone.StatusCode, gone.Message));
        Assert.Equal(HttpStatusCode.NotFound, deletedTwice.StatusCode);
    }

    [Fact]
    public async Task BadInputIsA422WithItsFields()
    {
        var client = await NewClientAsync();
        var endpoint = await client.Webhooks.CreateAsync("Fine", "https://example.com/hooks", [WebhookEvents.All], Ct);

        var created = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.CreateAsync("Bad", "ftp://example.com", ["channel.exploded"], Ct));
        var blank = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.CreateAsync(" ", "https://example.com", [WebhookEvents.All], Ct));
        var updated = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.UpdateAsync(endpoint.Id, new WebhookEndpointUpdate { Events = [] }, Ct));
        var rotated = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.RotateSecretAsync(endpoint.Id, TimeSpan.FromDays(2), Ct));
        var status = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.ListDeliveriesAsync(endpoint.Id, "lost", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.StatusCode);
        Assert.Equal(["events", "url"], created.Errors.Keys.Order());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, blank.StatusCode);
        Assert.Equal(["name"], blank.Errors.Keys);
        Assert.Contains("channel.exploded", created.Errors["events"][0], StringComparison.Ordinal);
        Assert.Equal(["events"], updated.Errors.Keys);
        Assert.Equal(["previous_secret_expires_in_seconds"], rotated.Errors.Keys);
        Assert.Equal(["status"], status.Errors.Keys);
    }

    [Fact]
    public async Task ATestDeliveryArrivesSignedAndTheReceiversAnswerIsLogged()
    {
        var client = await NewClientAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(new ReceiverAnswer(200, "thanks"));
        var endpoint = await client.Webhooks.CreateAsync("Receiver", receiver.Url.ToString(), [WebhookEvents.All], Ct);

        var queued = await client.Webhooks.TestAsync(endpoint.Id, Ct);
        var received = (await receiver.WaitForAsync(1, "the test event never arrived"))[0];
        var delivered = await WaitForDeliveryAsync(client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered");
        var verified = SkyLightWebhook.Verify(received.Body, received.Signature, received.Timestamp, endpoint.Secret!, time: app.Time);

        Assert.Equal(("pending", WebhookEvents.Test, null, 0), (queued.Status, queued.Event, queued.EventId, queued.Attempts));
        Assert.Equal((WebhookEvents.Test, queued.DeliveryId, SkyLightApp.Start), (verified.Event, verified.DeliveryId, verified.Timestamp));
        Assert.Equal(endpoint.Id, verified.Test?.WebhookId);
        Assert.Equal((WebhookEvents.Test, queued.DeliveryId.ToString()), (received.Event, received.DeliveryId));
        Assert.Equal((1, 200, null, SkyLightApp.Start), (delivered.Attempts, delivered.LastResponseStatus, delivered.LastError, delivered.DeliveredAt));
        var attempt = Assert.Single(delivered.AttemptLog!);
        Assert.Equal((200, "thanks", null), (attempt.ResponseStatus, attempt.ResponseBody, attempt.Error));
        Assert.Equal(endpoint.Id, delivered.Data!.Value.GetProperty("webhook_id").GetInt32());
        Assert.Equal([queued.DeliveryId], (await client.Webhooks.ListDeliveriesAsync(endpoint.Id, "delivered", cancellationToken: Ct)).Items.Select(d => d.DeliveryId));
        Assert.Empty((await client.Webhooks.ListDeliveriesAsync(endpoint.Id, "failed", cancellationToken: Ct)).Items);
        Assert.Null((await client.Webhooks.ListDeliveriesAsync(endpoint.Id, cancellationToken: Ct)).Items[0].AttemptLog);   // the log only in the detail
    }

    [Fact]
    public async Task ARotatedSecretSignsNextToThePreviousOneUntilItsGraceEnds()
    {
        var client = await NewClientAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await client.Webhooks.CreateAsync("Rotating", receiver.Url.ToString(), [WebhookEvents.Test], Ct);

        var rotated = await client.Webhooks.RotateSecretAsync(endpoint.Id, TimeSpan.FromHours(1), Ct);
        await client.Webhooks.TestAsync(endpoint.Id, Ct);
        var duringGrace = (await receiver.WaitForAsync(1, "the test during the grace period never arrived"))[^1];
        var rotatedAgain = await client.Webhooks.RotateSecretAsync(endpoint.Id, cancellationToken: Ct);
        await client.Webhooks.TestAsync(endpoint.Id, Ct);
        var afterGrace = (await receiver.WaitForAsync(2, "the test after the grace period never arrived"))[^1];

        Assert.NotEqual(endpoint.Secret, rotated.Secret);
        Assert.Equal(SkyLightApp.Start.AddHours(1), rotated.PreviousSecretExpiresAt);
        Assert.Equal(2, duringGrace.Signature.Split(',').Length);
        Assert.True(Passes(duringGrace, rotated.Secret!));
        Assert.True(Passes(duringGrace, endpoint.Secret!));
        Assert.Null(rotatedAgain.PreviousSecretExpiresAt);
        Assert.Single(afterGrace.Signature.Split(','));
        Assert.True(Passes(afterGrace, rotatedAgain.Secret!));
        Assert.False(Passes(afterGrace, rotated.Secret!));
        Assert.False(Passes(afterGrace, endpoint.Secret!));
    }

    [Fact]
    public async Task AFailedDeliveryIsRedeliveredWithTheSameIdUnlessTheEndpointIsOff()
    {
        var client = await NewClientAsync();
        var receiver = app.Receiver.NewRoute();
        // twice: a queue run that listed the delivery before its first attempt can claim it again right after it, before
        // the back-off (the claim does not check next_attempt_at); that attempt must fail too
        receiver.Answer(new ReceiverAnswer(500, "down for maintenance"), new ReceiverAnswer(500, "down for maintenance"));
        var endpoint = await client.Webhooks.CreateAsync("Flaky", receiver.Url.ToString(), [WebhookEvents.All], Ct);

        var queued = await client.Webhooks.TestAsync(endpoint.Id, Ct);
        var failed = await WaitForDeliveryAsync(client, endpoint.Id, queued.DeliveryId, d => d.AttemptLog is [_, ..]);
        receiver.ClearAnswers();   // the receiver is back
        var again = await RedeliverAsync(client, endpoint.Id, queued.DeliveryId);
        var delivered = await WaitForDeliveryAsync(client, endpoint.Id, queued.DeliveryId,
            d => d.Status == "delivered" && d.AttemptLog!.Count == receiver.Received.Count);
        await client.Webhooks.UpdateAsync(endpoint.Id, new WebhookEndpointUpdate { IsActive = false }, Ct);
        var whileOff = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.RedeliverAsync(endpoint.Id, queued.DeliveryId, Ct));
        var testWhileOff = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.TestAsync(endpoint.Id, Ct));
        var unknown = await Assert.ThrowsAsync<SkyLightApiException>(() => client.Webhooks.GetDeliveryAsync(endpoint.Id, Guid.NewGuid(), Ct));

        Assert.Equal((500, "down for maintenance", "the receiver answered 500"),
            (failed.AttemptLog![0].ResponseStatus, failed.AttemptLog[0].ResponseBody, failed.AttemptLog[0].Error));
        Assert.Equal(queued.DeliveryId, again.DeliveryId);
        Assert.Contains(again.Status, new[] { "pending", "delivered" });   // the replay starts at once: it may be over before the answer is read
        Assert.Equal((500, 200), (delivered.AttemptLog![0].ResponseStatus, delivered.AttemptLog[^1].ResponseStatus));
        Assert.Equal((200, null), (delivered.LastResponseStatus, delivered.LastError));
        Assert.All(receiver.Received, r => Assert.Equal(queued.DeliveryId.ToString(), r.DeliveryId));
        Assert.All(receiver.Received, r => Assert.True(Passes(r, endpoint.Secret!)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, whileOff.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, testWhileOff.StatusCode);
        Assert.Equal((HttpStatusCode.NotFound, "Delivery not found."), (unknown.StatusCode, unknown.Message));
    }

    [Fact]
    public async Task AnotherWorkspacesEndpointIsNotFound()
    {
        var owner = await NewClientAsync();
        var stranger = await NewClientAsync();
        var endpoint = await owner.Webhooks.CreateAsync("Mine", "https://example.com/hooks", [WebhookEvents.All], Ct);

        var read = await Assert.ThrowsAsync<SkyLightApiException>(() => stranger.Webhooks.GetAsync(endpoint.Id, Ct));
        var test = await Assert.ThrowsAsync<SkyLightApiException>(() => stranger.Webhooks.TestAsync(endpoint.Id, Ct));

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (read.StatusCode, test.StatusCode));
        Assert.Equal(0, (await stranger.Webhooks.ListAsync(cancellationToken: Ct)).Total);
    }

    private bool Passes(ReceivedDelivery delivery, string secret) =>
        SkyLightWebhook.TryVerify(delivery.Body, delivery.Signature, delivery.Timestamp, secret, out _, out _, time: app.Time);

    /// <summary>Redelivers, asking again while an attempt is under way (409): what an integrator's retry would do.</summary>
    private static async Task<WebhookDelivery> RedeliverAsync(SkyLightClient client, int endpointId, Guid deliveryId)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await client.Webhooks.RedeliverAsync(endpointId, deliveryId, Ct);
            }
            catch (SkyLightApiException e) when (e.StatusCode == HttpStatusCode.Conflict && tries < 100)
            {
                await Task.Delay(50, Ct);
            }
        }
    }

    private async Task<SkyLightClient> NewClientAsync() =>
        new(app.CreateClient(), new SkyLightClientOptions { ApiKey = (await app.NewWorkspaceAsync()).ApiKey });

    /// <summary>Reads the delivery until <paramref name="until"/> holds (or fails after a few seconds, showing where it stopped).</summary>
    private static async Task<WebhookDelivery> WaitForDeliveryAsync(SkyLightClient client, int endpointId, Guid deliveryId, Func<WebhookDelivery, bool> until)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (10 * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            var delivery = await client.Webhooks.GetDeliveryAsync(endpointId, deliveryId, Ct);
            if (until(delivery))
            {
                return delivery;
            }
            Assert.True(TimeProvider.System.GetTimestamp() < deadline,
                $"the delivery stayed {delivery} with attempts [{string.Join(", ", delivery.AttemptLog?.Select(a => $"{a.ResponseStatus} {a.Error}") ?? [])}]");
            await Task.Delay(50, Ct);
        }
    }
}
