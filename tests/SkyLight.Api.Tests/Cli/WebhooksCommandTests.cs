using System.Globalization;
using System.Text.Json;
using SkyLight.Api.Tests.Notifications;

namespace SkyLight.Api.Tests.Cli;

/// <summary><c>skylight webhooks …</c> against the service, with deliveries going to the loopback receiver.</summary>
public sealed class WebhooksCommandTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreatePrintsTheSecretOnceWithAWarningAndListShowsTheEndpoint()
    {
        var workspace = await app.NewWorkspaceAsync();
        var created = new CliConsole();
        var json = new CliConsole();
        var listed = new CliConsole();

        Assert.Equal(0, await RunAsync(created, workspace, "webhooks", "create", "--name", "Orders", "--url", "https://example.com/hooks",
            "--events", "channel.connected, channel.disconnected"));
        Assert.Equal(0, await RunAsync(json, workspace, "webhooks", "create", "--name", "Everything", "--url", "https://example.com/all", "--json"));
        Assert.Equal(0, await RunAsync(listed, workspace, "webhooks", "list"));

        Assert.Matches(@"Webhook endpoint \d+ Orders → https://example.com/hooks \(channel.connected, channel.disconnected\)", created.Output);
        Assert.Matches("Signing secret: whsec_[0-9A-Za-z]{40}", created.Output);
        Assert.Contains("Keep this secret now: it is not shown again.", created.Output, StringComparison.Ordinal);
        var endpoint = JsonDocument.Parse(json.Output).RootElement;   // one document: scripts can parse it
        Assert.StartsWith("whsec_", endpoint.GetProperty("secret").GetString(), StringComparison.Ordinal);
        Assert.Equal(["*"], endpoint.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Orders", listed.Output, StringComparison.Ordinal);
        Assert.Contains("https://example.com/all", listed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", listed.Output, StringComparison.Ordinal);   // shown once only
        Assert.Contains("page 1 of 1, 2 in all", listed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInputIsAnApiErrorWithItsFieldAndBadArgumentsAreUsageErrors()
    {
        var workspace = await app.NewWorkspaceAsync();
        var unknownEvent = new CliConsole();
        var missing = new CliConsole();
        var status = new CliConsole();
        var deliveryId = new CliConsole();
        var noUrl = new CliConsole();

        Assert.Equal(1, await RunAsync(unknownEvent, workspace, "webhooks", "create", "--name", "X", "--url", "https://example.com/x", "--events", "channel.exploded"));
        Assert.Equal(1, await RunAsync(missing, workspace, "webhooks", "delete", "999999"));
        Assert.Equal(2, await RunAsync(status, workspace, "webhooks", "deliveries", "1", "--status", "lost"));
        Assert.Equal(2, await RunAsync(deliveryId, workspace, "webhooks", "redeliver", "1", "not-a-uuid"));
        Assert.Equal(2, await RunAsync(noUrl, workspace, "webhooks", "create", "--name", "X"));

        Assert.Contains("Error 422:", unknownEvent.Output, StringComparison.Ordinal);
        Assert.Contains("events: The events hold unknown type(s): channel.exploded.", unknownEvent.Output, StringComparison.Ordinal);
        Assert.Contains("Error 404: Webhook endpoint not found.", missing.Output, StringComparison.Ordinal);
        Assert.Contains("'lost'", status.Output, StringComparison.Ordinal);
        Assert.Contains("not-a-uuid", deliveryId.Output, StringComparison.Ordinal);
        Assert.Contains("--url", noUrl.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestWaitsForTheReceiverAndPrintsItsAnswer()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        // the 500 twice: a queue run can try a failed delivery again at once, before its back-off, and that must fail too
        receiver.Answer(new ReceiverAnswer(200, "thanks"), new ReceiverAnswer(500, "down for maintenance"), new ReceiverAnswer(500, "down for maintenance"));
        var id = await CreateAsync(workspace, receiver.Url);
        var answered = new CliConsole();
        var failed = new CliConsole();

        Assert.Equal(0, await RunAsync(answered, workspace, "webhooks", "test", id));
        Assert.Equal(1, await RunAsync(failed, workspace, "webhooks", "test", id));   // not delivered: scripts can tell

        Assert.Matches(@"Delivered webhook.test [0-9a-f-]{36}: the receiver answered 200 in \d+ ms.", answered.Output);
        Assert.Contains("Receiver's answer: thanks", answered.Output, StringComparison.Ordinal);
        Assert.Matches(@"Not delivered webhook.test [0-9a-f-]{36}: the receiver answered 500 \(after \d+ ms\).", failed.Output);
        Assert.Contains("Receiver's answer: down for maintenance", failed.Output, StringComparison.Ordinal);
        Assert.Contains($"or now with: skylight webhooks redeliver {id} ", failed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestWithJsonPrintsTheDeliveryWithItsAttemptLog()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var id = await CreateAsync(workspace, receiver.Url);
        var console = new CliConsole();

        Assert.Equal(0, await RunAsync(console, workspace, "webhooks", "test", id, "--json"));

        var delivery = JsonDocument.Parse(console.Output).RootElement;
        Assert.Equal(("delivered", "webhook.test"), (delivery.GetProperty("status").GetString(), delivery.GetProperty("event").GetString()));
        var attempt = Assert.Single(delivery.GetProperty("attempt_log").EnumerateArray().ToList());
        Assert.Equal((200, "ok"), (attempt.GetProperty("response_status").GetInt32(), attempt.GetProperty("response_body").GetString()));
        Assert.Equal(receiver.Received[0].DeliveryId, delivery.GetProperty("delivery_id").GetString());
    }

    [Fact]
    public async Task TestStopsWatchingAfterAFewSecondsWithoutAnAnswer()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(ReceiverAnswer.Hang);
        var id = await CreateAsync(workspace, receiver.Url);
        var console = new CliConsole();

        var exit = await RunAsync(console, workspace, "webhooks", "test", id);
        app.Time.Advance(TimeSpan.FromMinutes(1));   // the sender's timeout runs on the service's clock: let it end the hanging attempt

        Assert.Equal(1, exit);
        Assert.Matches(@"No answer within 5 s: delivery [0-9a-f-]{36} is still pending.", console.Output);
        Assert.Contains($"See it later with: skylight webhooks deliveries {id}", console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeliveriesAreListedByStatusAndRedeliveredWithTheSameId()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        receiver.Answer(new ReceiverAnswer(503, "busy"), new ReceiverAnswer(503, "busy"));   // twice: see the test above
        var id = await CreateAsync(workspace, receiver.Url);
        Assert.Equal(1, await RunAsync(new CliConsole(), workspace, "webhooks", "test", id));
        receiver.ClearAnswers();   // the receiver is back
        var deliveryId = receiver.Received[0].DeliveryId;
        var pending = new CliConsole();
        var noneDelivered = new CliConsole();
        var redelivered = new CliConsole();
        var delivered = new CliConsole();

        Assert.Equal(0, await RunAsync(pending, workspace, "webhooks", "deliveries", id, "--status", "pending"));
        Assert.Equal(0, await RunAsync(noneDelivered, workspace, "webhooks", "deliveries", id, "--status", "delivered"));
        Assert.Equal(0, await RunAsync(redelivered, workspace, "webhooks", "redeliver", id, deliveryId));
        await Channels.ChannelsApp.WaitUntilAsync(async () =>
            await RunAsync(delivered = new CliConsole(), workspace, "webhooks", "deliveries", id, "--status", "delivered", "--json") == 0 &&
            JsonDocument.Parse(delivered.Output).RootElement.GetProperty("total").GetInt32() == 1, "the replay was never marked delivered");
        var received = receiver.Received;
        var deleted = new CliConsole();
        Assert.Equal(0, await RunAsync(deleted, workspace, "webhooks", "delete", id));

        Assert.Matches($@"{deliveryId}\s+│\s+webhook.test\s+│\s+pending\s+│\s+[12]\s+│\s+503\s+│\s+the receiver answered 503", pending.Output);
        Assert.Contains("page 1 of 1, 1 in all", pending.Output, StringComparison.Ordinal);
        Assert.Contains("page 1 of 1, 0 in all", noneDelivered.Output, StringComparison.Ordinal);
        Assert.Contains($"Delivery {deliveryId} queued again (webhook.test, ", redelivered.Output, StringComparison.Ordinal);
        Assert.All(received, r => Assert.Equal(deliveryId, r.DeliveryId));
        var item = Assert.Single(JsonDocument.Parse(delivered.Output).RootElement.GetProperty("items").EnumerateArray().ToList());
        Assert.Equal((deliveryId, received.Count), (item.GetProperty("delivery_id").GetString(), item.GetProperty("attempts").GetInt32()));
        Assert.Contains($"Webhook endpoint {id} deleted.", deleted.Output, StringComparison.Ordinal);
    }

    /// <summary>An endpoint made with the CLI; its id as the CLI takes it.</summary>
    private async Task<string> CreateAsync(TestWorkspace workspace, Uri url)
    {
        var console = new CliConsole();
        Assert.Equal(0, await RunAsync(console, workspace, "webhooks", "create", "--name", "Receiver", "--url", url.ToString(), "--json"));
        return JsonDocument.Parse(console.Output).RootElement.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture);
    }

    private Task<int> RunAsync(CliConsole console, TestWorkspace workspace, params string[] args) =>
        SkyLight.Cli.Program.RunAsync([.. args, "--api-url", app.CreateClient().BaseAddress!.ToString(), "--api-key", workspace.ApiKey], console,
            pollInterval: TimeSpan.FromMilliseconds(100), cancellationToken: Ct);
}
