using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Notifications;
using static SkyLight.Api.Tests.Notifications.WebhookApi;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>Deliveries as a receiver sees them: body, headers, signature, retries on the clock, replay, rotation, switching off.</summary>
public sealed class WebhookDeliveryTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;


    [Fact]
    public async Task ADeliveryIsAPostOfTheConventionsBodyAndHeadersSignedWithTheSecret()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        var received = (await receiver.WaitForAsync(1, "the test event never arrived"))[0];

        Assert.Equal(["event", "delivery_id", "timestamp", "data"], received.Json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("webhook.test", received.Json.GetProperty("event").GetString());
        Assert.Equal("webhook.test", received.Event);
        Assert.Equal(queued.DeliveryId.ToString(), received.DeliveryId);
        Assert.Equal(queued.DeliveryId.ToString(), received.Json.GetProperty("delivery_id").GetString());
        var now = app.Time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now.ToString(CultureInfo.InvariantCulture), received.Timestamp);
        Assert.Equal(now, received.Json.GetProperty("timestamp").GetInt64());
        Assert.Equal(endpoint.Id, received.Json.GetProperty("data").GetProperty("webhook_id").GetInt32());
        Assert.Equal("application/json; charset=utf-8", received.ContentType);
        Assert.Single(received.Signatures);
        Assert.True(received.IsSignedWith(endpoint.Secret!), $"signature {received.Signature} does not match the body");
        Assert.False(received.IsSignedWith(endpoint.Secret! + "x"));

        var delivered = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered", "never marked delivered");
        Assert.Equal(200, delivered.LastResponseStatus);
        Assert.Equal("ok", Assert.Single(delivered.AttemptLog!).ResponseBody);
    }

    [Fact]
    public async Task A500IsRetriedOnTheScheduleWithTheSameDeliveryIdUntilA2xx()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        receiver.Answer(new ReceiverAnswer(500, "down"), new ReceiverAnswer(503), new ReceiverAnswer(500));

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        var delays = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var failed = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == attempt, $"attempt {attempt} never recorded");
            Assert.Equal("pending", failed.Status);
            var next = DateTimeOffset.Parse(failed.NextAttemptAt!, CultureInfo.InvariantCulture);
            delays.Add(next - app.Time.GetUtcNow());
            app.Advance(next - app.Time.GetUtcNow());
        }
        var delivered = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered", "never delivered");

        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)], delays);
        Assert.Equal([500, 503, 500, 200], delivered.AttemptLog!.Select(a => a.ResponseStatus));
        Assert.Equal("down", delivered.AttemptLog![0].ResponseBody);
        Assert.Equal("the receiver answered 503", delivered.AttemptLog![1].Error);
        var received = receiver.Received.ToList();
        Assert.Equal(4, received.Count);
        Assert.All(received, r => Assert.Equal(queued.DeliveryId.ToString(), r.DeliveryId));
        Assert.All(received, r => Assert.True(r.IsSignedWith(endpoint.Secret!)));
        Assert.Equal(4, received.Select(r => r.Timestamp).Distinct().Count());   // each attempt is stamped and signed anew
    }

    [Fact]
    public async Task ADeliveryIsTriedOnceUntilItsRetryIsDueHoweverManyRunsRace()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer([.. Enumerable.Repeat(new ReceiverAnswer(500), 1000)]);
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var sender = app.Services.GetRequiredService<WebhookSender>();
        using var stop = new CancellationTokenSource();
        // runs of the loop that list due items while each test event is being tried at once by its own ProcessNow
        var runs = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await sender.RunOnceAsync(Ct);
            }
        }, Ct);

        var deliveries = new List<Guid>();
        for (var i = 0; i < 30; i++)
        {
            deliveries.Add((await TestAsync(workspace.Client, endpoint.Id)).DeliveryId);
        }
        foreach (var id in deliveries)
        {
            await WaitForDeliveryAsync(workspace.Client, endpoint.Id, id, d => d.Attempts >= 1, "never tried");
        }
        await stop.CancelAsync();
        await runs;

        // the clock did not move: no retry was due, so each was tried exactly once
        Assert.Equal(30, receiver.Received.Count);
        foreach (var id in deliveries)
        {
            Assert.Equal(1, (await DeliveryAsync(workspace.Client, endpoint.Id, id)).Attempts);
        }
    }

    [Fact]
    public async Task AReceiverThatNeverAnswersTimesOutAfter30SecondsAndIsRetried()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        receiver.Answer(ReceiverAnswer.Hang);

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        await receiver.WaitForAsync(1, "the request never arrived");
        app.Advance(TimeSpan.FromSeconds(29));
        var waiting = await DeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId);
        app.Advance(TimeSpan.FromSeconds(1));
        var timedOut = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == 1, "the attempt never timed out");

        Assert.Equal(0, waiting.Attempts);
        Assert.Equal("timeout: no answer within 30 s", timedOut.LastError);
        Assert.Null(timedOut.LastResponseStatus);
        Assert.Equal("pending", timedOut.Status);
        app.Advance(TimeSpan.FromSeconds(30));
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered", "the retry never delivered");
    }

    [Fact]
    public async Task ARefusedConnectionIsRecordedAndRetried()
    {
        var workspace = await app.NewWorkspaceAsync();
        var endpoint = await CreateAsync(workspace.Client, new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}/nobody-listens"));

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        var refused = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == 1, "the attempt was never recorded");

        Assert.Equal("connection refused", refused.LastError);
        Assert.Equal("pending", refused.Status);
        Assert.NotNull(refused.NextAttemptAt);
    }

    [Fact]
    public async Task ARedirectIsNotFollowedAndALongAnswerIsKeptTruncated()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        receiver.Answer(new ReceiverAnswer(302, Location: receiver.Url + "/elsewhere"), new ReceiverAnswer(500, new string('x', 100_000)));

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        var redirected = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == 1, "the first attempt never ended");
        app.Advance(TimeSpan.FromSeconds(30));
        var long500 = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == 2, "the second attempt never ended");

        Assert.Equal("the receiver answered 302", redirected.LastError);
        Assert.DoesNotContain(receiver.Received, r => r.Path.EndsWith("/elsewhere", StringComparison.Ordinal));
        Assert.Equal(WebhookSender.MaxResponseBodyChars, long500.AttemptLog![1].ResponseBody!.Length);
    }

    [Fact]
    public async Task AnAnswerWithNulBytesIsLoggedAndTheDeliveryDone()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(new ReceiverAnswer(200, "ok\0\0binary"));   // PostgreSQL refuses NUL in text: the log must not
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        var delivered = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered", "never marked delivered");

        Assert.Equal("ok\uFFFD\uFFFDbinary", Assert.Single(delivered.AttemptLog!).ResponseBody);
    }

    [Fact]
    public async Task A2xxWhoseBodyStallsAcknowledgesWithWhatArrived()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(new ReceiverAnswer(200, "accepted, and then", StallsBody: true));
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);

        var queued = await TestAsync(workspace.Client, endpoint.Id);
        await receiver.WaitForAsync(1, "the delivery never arrived");
        app.Advance(TimeSpan.FromSeconds(30));
        var delivered = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status != "pending" || d.Attempts > 0, "never ended");

        Assert.Equal("delivered", delivered.Status);
        Assert.Equal("accepted, and then", delivered.AttemptLog![0].ResponseBody);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task AHangingEndpointHoldsAFewSlotsAndTheOthersAreServed()
    {
        var workspace = await app.NewWorkspaceAsync();
        var stuck = app.Receiver.NewRoute();
        stuck.Answer([.. Enumerable.Repeat(ReceiverAnswer.Hang, 10)]);
        var fine = app.Receiver.NewRoute();
        var hanging = await CreateAsync(workspace.Client, stuck.Url);
        var answering = await CreateAsync(workspace.Client, fine.Url);
        var sender = app.Services.GetRequiredService<WebhookSender>();

        var held = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            held.Add((await TestAsync(workspace.Client, hanging.Id)).DeliveryId);
        }
        await stuck.WaitForAsync(4, "the hanging endpoint's first deliveries never arrived");
        Assert.Equal(0, await sender.RunOnceAsync(Ct));   // its share (Webhooks:ParallelismPerEndpoint, 4) is under way: nothing more starts
        var other = await TestAsync(workspace.Client, answering.Id);
        await WaitForDeliveryAsync(workspace.Client, answering.Id, other.DeliveryId, d => d.Status == "delivered", "the other endpoint waited behind the hanging one");

        Assert.Equal(4, stuck.Received.Count);
        app.Advance(TimeSpan.FromSeconds(30));   // the four time out; the next four go
        await stuck.WaitForAsync(8, "the next deliveries never started");
    }

    [Fact]
    public async Task RedeliverSendsTheSameDeliveryIdAgain()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var queued = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Status == "delivered", "never delivered");

        var response = await workspace.Client.PostAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries/{queued.DeliveryId}/redeliver", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var again = (await receiver.WaitForAsync(2, "the replay never arrived"))[1];
        var replayed = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.AttemptLog!.Length == 2 && d.Status == "delivered", "replay not logged");

        Assert.Equal(queued.DeliveryId.ToString(), again.DeliveryId);
        Assert.True(again.IsSignedWith(endpoint.Secret!));
        Assert.Equal(2, replayed.Attempts);
        var missing = await workspace.Client.PostAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries/{Guid.NewGuid()}/redeliver", null, Ct);
        await missing.AssertErrorAsync(404, "Delivery not found.");
    }

    [Fact]
    public async Task RotatingWithoutGraceSignsWithTheNewSecretOnlyAndWithGraceWithBothUntilItEnds()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);

        var rotated = await DataAsync<Endpoint>(await workspace.Client.PostAsync($"/api/v1/webhooks/{endpoint.Id}/rotate-secret", null, Ct));
        var first = await ReceivedTestAsync(workspace.Client, endpoint.Id, receiver);
        Assert.NotEqual(endpoint.Secret, rotated.Secret);
        Assert.StartsWith("whsec_", rotated.Secret, StringComparison.Ordinal);
        Assert.Null(rotated.PreviousSecretExpiresAt);
        Assert.Single(first.Signatures);
        Assert.True(first.IsSignedWith(rotated.Secret!));
        Assert.False(first.IsSignedWith(endpoint.Secret!));

        var graced = await DataAsync<Endpoint>(await workspace.Client.PostAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}/rotate-secret",
            new { previous_secret_expires_in_seconds = 3600 }, Ct));
        var during = await ReceivedTestAsync(workspace.Client, endpoint.Id, receiver);
        Assert.Equal(2, during.Signatures.Length);
        Assert.True(during.IsSignedWith(graced.Secret!));
        Assert.True(during.IsSignedWith(rotated.Secret!));
        Assert.True(new ReceivedDelivery(during.Body, "", null, "", "", "", "sha256=" + during.Signatures[0]).IsSignedWith(graced.Secret!), "the newest comes first");
        Assert.NotNull(graced.PreviousSecretExpiresAt);

        app.Advance(TimeSpan.FromSeconds(3600));
        var after = await ReceivedTestAsync(workspace.Client, endpoint.Id, receiver);
        Assert.Single(after.Signatures);
        Assert.True(after.IsSignedWith(graced.Secret!));
        Assert.Null((await GetAsync(workspace.Client, endpoint.Id)).PreviousSecretExpiresAt);

        var tooLong = await workspace.Client.PostAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}/rotate-secret", new { previous_secret_expires_in_seconds = 86401 }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.StatusCode);
    }

    [Fact]
    public async Task ADeliveryFailsWhenItsWindowEndsAndAnEndpointThatFailedForThreeDaysIsSwitchedOffUntilReenabled()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var started = app.Time.GetUtcNow();
        receiver.Answer([.. Enumerable.Repeat(new ReceiverAnswer(500), 100)]);
        try
        {
            var queued = await TestAsync(workspace.Client, endpoint.Id);
            WebhookApi.Delivery delivery;
            for (var attempt = 1; ; attempt++)
            {
                delivery = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, queued.DeliveryId, d => d.Attempts == attempt, $"attempt {attempt} never recorded");
                if (delivery.Status != "pending")
                {
                    break;
                }
                app.Advance(DateTimeOffset.Parse(delivery.NextAttemptAt!, CultureInfo.InvariantCulture) - app.Time.GetUtcNow());
            }
            Assert.Equal("failed", delivery.Status);
            Assert.InRange(delivery.Attempts, 10, 20);   // 30 s doubling to 12 h: about 15 attempts in 3 days
            var lastAttempt = DateTimeOffset.Parse(delivery.AttemptLog![^1].AttemptedAt, CultureInfo.InvariantCulture);
            Assert.InRange(lastAttempt - started, TimeSpan.FromDays(2), TimeSpan.FromDays(3));
            Assert.True((await GetAsync(workspace.Client, endpoint.Id)).IsActive, "not yet three days of failures");

            // the next event, three days after the first failure, fails too: the endpoint is switched off
            app.Advance(started + TimeSpan.FromDays(3) - app.Time.GetUtcNow());
            var next = await TestAsync(workspace.Client, endpoint.Id);
            await WaitForDeliveryAsync(workspace.Client, endpoint.Id, next.DeliveryId, d => d.Attempts == 1, "the next event was never attempted");
            var off = await GetAsync(workspace.Client, endpoint.Id);
            Assert.False(off.IsActive);
            Assert.StartsWith("Every delivery failed for 3 days", off.DisabledReason, StringComparison.Ordinal);
            Assert.Contains(app.Logs.Lines, l => l.Contains($"Webhook endpoint {endpoint.Id} of workspace {workspace.Id} was switched off", StringComparison.Ordinal));

            // while off nothing is attempted, however long it waits
            app.Advance(TimeSpan.FromDays(1));
            await app.Services.GetRequiredService<WebhookSender>().RunOnceAsync(Ct);
            Assert.Equal(1, (await DeliveryAsync(workspace.Client, endpoint.Id, next.DeliveryId)).Attempts);
            var test = await workspace.Client.PostAsync($"/api/v1/webhooks/{endpoint.Id}/test", null, Ct);
            await test.AssertErrorAsync(422, "The endpoint is switched off. Switch it on (is_active: true) first.");

            // switched on, it resumes what waited
            receiver.ClearAnswers();
            var on = await workspace.Client.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}", new { is_active = true }, Ct);
            var resumed = await DataAsync<Endpoint>(on);
            Assert.True(resumed.IsActive);
            Assert.Null(resumed.DisabledReason);
            await WaitForDeliveryAsync(workspace.Client, endpoint.Id, next.DeliveryId, d => d.Status == "delivered", "the waiting delivery never resumed");
        }
        finally
        {
            receiver.ClearAnswers();
        }
    }

    private static async Task<ReceivedDelivery> ReceivedTestAsync(HttpClient client, int endpointId, ReceiverRoute receiver)
    {
        var queued = await TestAsync(client, endpointId);
        await WaitForDeliveryAsync(client, endpointId, queued.DeliveryId, d => d.Status == "delivered", "the test event was not delivered");
        return receiver.Received.Single(r => r.DeliveryId == queued.DeliveryId.ToString());
    }
}
