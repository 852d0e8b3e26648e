using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Notifications;
using static SkyLight.Api.Tests.Notifications.WebhookApi;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>The endpoints' API: its answers, its errors, tenancy, and where the secret is (not) kept.</summary>
public sealed class WebhookEndpointTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnEndpointIsCreatedWithItsSecretOnceThenReadChangedAndDeleted()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = app.Receiver.NewRoute().Url;

        var response = await workspace.Client.PostAsJsonAsync("/api/v1/webhooks",
            new { name = "CRM", url = url.ToString(), events = new[] { "channel.connected", "channel.disconnected", "channel.connected" } }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await DataAsync<Endpoint>(response);
        Assert.Equal($"/api/v1/webhooks/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Matches("^whsec_[0-9A-Za-z]{40}$", created.Secret);
        Assert.Equal(["channel.connected", "channel.disconnected"], created.Events);
        Assert.True(created.IsActive);

        var read = await workspace.Client.GetAsync($"/api/v1/webhooks/{created.Id}", Ct);
        Assert.DoesNotContain("secret\"", await read.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equivalent(created with { Secret = null }, await DataAsync<Endpoint>(read), strict: true);

        var changed = await DataAsync<Endpoint>(await workspace.Client.PatchAsJsonAsync($"/api/v1/webhooks/{created.Id}",
            new { name = "CRM 2", events = new[] { "*" }, is_active = false }, Ct));
        Assert.Equal(("CRM 2", "*", false, url.ToString()), (changed.Name, string.Join(',', changed.Events), changed.IsActive, changed.Url));

        await workspace.Client.PostAsJsonAsync("/api/v1/webhooks", new { name = "Second", url = url.ToString(), events = new[] { "*" } }, Ct);
        var list = await PageAsync<Endpoint>(await workspace.Client.GetAsync("/api/v1/webhooks?per_page=1", Ct));
        Assert.Equal((1, 2, 1, 2), (list.Meta.CurrentPage, list.Meta.LastPage, list.Meta.PerPage, list.Meta.Total));
        Assert.Equal("Second", Assert.Single(list.Data).Name);
        Assert.All(list.Data, e => Assert.Null(e.Secret));

        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.DeleteAsync($"/api/v1/webhooks/{created.Id}", Ct)).StatusCode);
        await (await workspace.Client.GetAsync($"/api/v1/webhooks/{created.Id}", Ct)).AssertErrorAsync(404, "Webhook endpoint not found.");
    }

    [Theory]
    [InlineData("""{"url":"http://127.0.0.1/x","events":["*"]}""", "name")]
    [InlineData("""{"name":"   ","url":"http://127.0.0.1/x","events":["*"]}""", "name")]
    [InlineData("""{"name":"a","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"not a url","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"ftp://example.com/x","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"http://user:pw@127.0.0.1/x","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x\u0000","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/a b","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":" http://127.0.0.1/x","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x\r\nX-Injected: 1","events":["*"]}""", "url")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x","events":[]}""", "events")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x","events":["channel.exploded"]}""", "events")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x","events":[null]}""", "events")]
    [InlineData("""{"name":"a","url":"http://127.0.0.1/x"}""", "events")]
    public async Task ABadEndpointIs422OnItsField(string body, string field)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.SendAsync(Json.Request(HttpMethod.Post, "/api/v1/webhooks", body), Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.BodyAsync()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task AnUnknownEventTypeIsNamedWithTheTypesThatExist()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsJsonAsync("/api/v1/webhooks", new { name = "a", url = "http://127.0.0.1/x", events = new[] { "channel.exploded" } }, Ct);

        var message = (await response.BodyAsync()).GetProperty("errors").GetProperty("events")[0].GetString();
        Assert.StartsWith("The events hold unknown type(s): channel.exploded. Use: *, channel.connect_started,", message, StringComparison.Ordinal);
        Assert.EndsWith("channel.disconnected, webhook.test.", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherWorkspacesEndpointAndDeliveriesAre404Everywhere()
    {
        var owner = await app.NewWorkspaceAsync();
        var other = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(owner.Client, receiver.Url);
        var delivery = await TestAsync(owner.Client, endpoint.Id);
        await WaitForDeliveryAsync(owner.Client, endpoint.Id, delivery.DeliveryId, d => d.Status == "delivered", "never delivered");
        var path = $"/api/v1/webhooks/{endpoint.Id}";

        (HttpMethod Method, string Path, string Message)[] calls =
        [
            (HttpMethod.Get, path, "Webhook endpoint not found."),
            (HttpMethod.Patch, path, "Webhook endpoint not found."),
            (HttpMethod.Delete, path, "Webhook endpoint not found."),
            (HttpMethod.Post, $"{path}/test", "Webhook endpoint not found."),
            (HttpMethod.Post, $"{path}/rotate-secret", "Webhook endpoint not found."),
            (HttpMethod.Get, $"{path}/deliveries", "Webhook endpoint not found."),
            (HttpMethod.Get, $"{path}/deliveries/{delivery.DeliveryId}", "Delivery not found."),
            (HttpMethod.Post, $"{path}/deliveries/{delivery.DeliveryId}/redeliver", "Delivery not found."),
        ];
        foreach (var (method, target, message) in calls)
        {
            var response = await other.Client.SendAsync(Json.Request(method, target, "{}"), Ct);
            await response.AssertErrorAsync(404, message);
        }
        Assert.Single(receiver.Received);   // nothing was sent for the other workspace
        Assert.Equal(0, (await PageAsync<Endpoint>(await other.Client.GetAsync("/api/v1/webhooks", Ct))).Meta.Total);
        Assert.True((await GetAsync(owner.Client, endpoint.Id)).IsActive);
    }

    [Fact]
    public async Task TheEndpointLimitHoldsUnderSimultaneousCreates()
    {
        var workspace = await app.NewWorkspaceAsync();
        var url = app.Receiver.NewRoute().Url.ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            workspace.Client.PostAsJsonAsync("/api/v1/webhooks", new { name = $"n{i}", url, events = new[] { "*" } }, Ct)));

        Assert.Equal(20, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(10, answers.Count(a => a.StatusCode == HttpStatusCode.UnprocessableEntity));
        Assert.Equal(20, (await PageAsync<Endpoint>(await workspace.Client.GetAsync("/api/v1/webhooks", Ct))).Meta.Total);
    }

    [Fact]
    public async Task CallsRacingADeleteAnswer404OrTheirOwnAnswerNever500()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var answers = new List<int>();
        for (var round = 0; round < 8; round++)
        {
            var endpoint = await CreateAsync(workspace.Client, receiver.Url);
            var delivery = await TestAsync(workspace.Client, endpoint.Id);
            await WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.Status == "delivered", "never delivered");
            var path = $"/api/v1/webhooks/{endpoint.Id}";
            var calls = await Task.WhenAll(
                workspace.Client.DeleteAsync(path, Ct),
                workspace.Client.PatchAsJsonAsync(path, new { name = "n", is_active = true }, Ct),
                workspace.Client.PostAsJsonAsync($"{path}/rotate-secret", new { previous_secret_expires_in_seconds = 60 }, Ct),
                workspace.Client.PostAsync($"{path}/test", null, Ct),
                workspace.Client.PostAsync($"{path}/deliveries/{delivery.DeliveryId}/redeliver", null, Ct),
                workspace.Client.PatchAsJsonAsync(path, new { events = new[] { "channel.connected" } }, Ct));
            answers.AddRange(calls.Select(c => (int)c.StatusCode));
        }

        TestReport.Line("webhooks: calls racing a delete of their endpoint, answers " +
            string.Join(", ", answers.GroupBy(a => a).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));
        Assert.All(answers, a => Assert.Contains(a, new[] { 200, 202, 204, 404, 409 }));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains("Sequence contains no elements", StringComparison.Ordinal) || l.Contains("could not be processed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OfTwoRotationsAtOnceOneWinsAndTheOtherIs409SoEverySecretHandedOutSigns()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var path = $"/api/v1/webhooks/{endpoint.Id}/rotate-secret";

        // the first rotation has read the endpoint when the second one commits
        var held = app.Gate.Arm(WebhookEndpointsApi.RotateReadTag);
        var first = workspace.Client.PostAsJsonAsync(path, new { previous_secret_expires_in_seconds = 3600 }, Ct);
        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var second = await DataAsync<Endpoint>(await workspace.Client.PostAsJsonAsync(path, new { previous_secret_expires_in_seconds = 3600 }, Ct));
        app.Gate.Release();
        var lost = await first;

        await lost.AssertErrorAsync(409, "The webhook endpoint changed while this request ran (its secret was rotated, say). Fetch it and try again.");
        var delivery = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.Status == "delivered", "never delivered");
        var signed = Assert.Single(receiver.Received);
        Assert.Equal(2, signed.Signatures.Length);
        Assert.True(signed.IsSignedWith(second.Secret!));
        Assert.True(signed.IsSignedWith(endpoint.Secret!));   // the grace the winner promised: the secret it replaced
    }

    [Fact]
    public async Task TheDeliveryLogListsNewestFirstAndFiltersByStatus()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(new ReceiverAnswer(500));
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var failing = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, failing.DeliveryId, d => d.Attempts == 1, "the first test never ran");
        var passing = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, passing.DeliveryId, d => d.Status == "delivered", "the second test never ran");

        var all = await PageAsync<Delivery>(await workspace.Client.GetAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries", Ct));
        var pending = await PageAsync<Delivery>(await workspace.Client.GetAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries?status=pending", Ct));
        var bad = await workspace.Client.GetAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries?status=lost", Ct);

        Assert.Equal([passing.DeliveryId, failing.DeliveryId], all.Data.Select(d => d.DeliveryId));
        Assert.Equal((1, 500, "the receiver answered 500"), (all.Data[1].Attempts, all.Data[1].LastResponseStatus, all.Data[1].LastError));
        Assert.All(all.Data, d => Assert.Null(d.AttemptLog));   // the log's detail is in the delivery's own answer
        Assert.Equal(failing.DeliveryId, Assert.Single(pending.Data).DeliveryId);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
    }

    [Fact]
    public async Task FinishedDeliveriesOlderThanTheRetentionArePurgedAndPendingOnesStay()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var delivered = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivered.DeliveryId, d => d.Status == "delivered", "never delivered");
        receiver.Answer(new ReceiverAnswer(500));
        var pending = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, pending.DeliveryId, d => d.Attempts == 1, "never tried");
        await workspace.Client.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}", new { is_active = false }, Ct);   // so it stays pending

        app.Advance(TimeSpan.FromDays(91));
        // the job, or its hourly run that the clock's jump just woke, purges under one lease
        Page<Delivery> left = null!;
        await Channels.ChannelsApp.WaitUntilAsync(async () =>
        {
            await app.Services.GetRequiredService<SkyLight.Api.Channels.Events.JournalRetention>().RunOnceAsync(Ct);
            left = await PageAsync<Delivery>(await workspace.Client.GetAsync($"/api/v1/webhooks/{endpoint.Id}/deliveries", Ct));
            return left.Data.All(d => d.DeliveryId != delivered.DeliveryId);
        }, "the delivered delivery was never purged");

        Assert.Equal([pending.DeliveryId], left.Data.Select(d => d.DeliveryId));
    }

    [Fact]
    public async Task TheSecretIsInNoRowAndNoLogLine()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var endpoint = await CreateAsync(workspace.Client, receiver.Url);
        var rotated = await DataAsync<Endpoint>(await workspace.Client.PostAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}/rotate-secret",
            new { previous_secret_expires_in_seconds = 600 }, Ct));
        var delivery = await TestAsync(workspace.Client, endpoint.Id);
        await WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.Status == "delivered", "never delivered");
        Assert.True(receiver.Received[0].IsSignedWith(endpoint.Secret!) && receiver.Received[0].IsSignedWith(rotated.Secret!));

        var stored = await app.Database.ReadEverythingStoredAsync();
        foreach (var secret in new[] { endpoint.Secret!, rotated.Secret! })
        {
            var random = secret["whsec_".Length..];
            Assert.DoesNotContain(random, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(random, app.Logs.All, StringComparison.Ordinal);
        }
        Assert.Contains("whsec", JsonSerializer.Serialize(rotated), StringComparison.Ordinal);
    }
}
