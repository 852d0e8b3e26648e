using System.Net;
using System.Text.Json;
using SkyLight.Api.Tests.Channels;
using static SkyLight.Api.Tests.Notifications.WebhookApi;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>The service and its emulator on the real clock, with a receiver: channel events reach integrators as they happen.</summary>
public class ChannelWebhooksApp : ChannelsApp, IAsyncLifetime
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Receiver = await WebhookReceiver.StartAsync();

    public override async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class ChannelEventWebhookTests(ChannelWebhooksApp app) : IClassFixture<ChannelWebhooksApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryJournalEventOfTheWorkspaceReachesASubscriberOnceWithTheChannelAndTheReason()
    {
        var workspace = await app.NewWorkspaceAsync();
        var everything = app.Receiver.NewRoute();
        var disconnects = app.Receiver.NewRoute();
        var all = await CreateAsync(workspace.Client, everything.Url, "*");
        var onlyDisconnects = await CreateAsync(workspace.Client, disconnects.Url, "channel.disconnected");
        var bystander = await app.NewWorkspaceAsync();
        var elsewhere = app.Receiver.NewRoute();
        await CreateAsync(bystander.Client, elsewhere.Url, "*");

        var (channelId, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp", new { phone_number = "966512345678" });
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).StatusCode);
        var disconnect = (await disconnects.WaitForAsync(1, "the disconnect never reached its subscriber"))[0];
        var journal = await TimelineAsync(workspace.Client);
        var received = await everything.WaitForAsync(journal.Length, "not every event reached the * subscriber");

        // every event once, as the timeline lists it; each signed with its endpoint's secret
        Assert.Equal(journal.Select(e => e.GetProperty("id").GetInt64()).Order(), received.Select(r => EventId(r)).Order());
        Assert.Equal(received.Count, received.Select(r => r.DeliveryId).Distinct().Count());
        Assert.All(received, r => Assert.True(r.IsSignedWith(all.Secret!)));
        Assert.Equal(journal.Select(e => e.GetProperty("type").GetString()), received.OrderBy(EventId).Select(r => r.Event));

        var connected = received.Single(r => r.Event == "channel.connected").Json.GetProperty("data");
        Assert.Equal(channelId, connected.GetProperty("id").GetInt32());
        Assert.Equal("whatsapp", connected.GetProperty("type").GetString());
        Assert.True(connected.GetProperty("is_connected").GetBoolean());
        Assert.Equal("login_completed", connected.GetProperty("reason").GetString());
        Assert.Equal("channel.connected", connected.GetProperty("event_type").GetString());
        Assert.Equal(accountId, connected.GetProperty("account_id").GetString());
        Assert.False(connected.GetProperty("previous_is_connected").GetBoolean());
        Assert.EndsWith("+03:00", connected.GetProperty("occurred_at").GetString(), StringComparison.Ordinal);   // the workspace's zone, as channels show it
        var raw = System.Text.Encoding.UTF8.GetString(received.Single(r => r.Event == "channel.connected").Body);
        Assert.Contains("+03:00\"", raw, StringComparison.Ordinal);   // written as is, not \u002B
        Assert.DoesNotContain("\\u002B", raw, StringComparison.Ordinal);

        Assert.Equal("channel.disconnected", disconnect.Event);
        Assert.True(disconnect.IsSignedWith(onlyDisconnects.Secret!));
        var gone = disconnect.Json.GetProperty("data");
        Assert.Equal(("disconnected_by_user", false, channelId), (gone.GetProperty("reason").GetString(), gone.GetProperty("is_connected").GetBoolean(), gone.GetProperty("id").GetInt32()));
        Assert.Single(disconnects.Received);
        Assert.Empty(elsewhere.Received);
    }

    [Fact]
    public async Task AnEndpointGetsOnlyWhatHappensAfterItIsCreated()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "telegram");
        var receiver = app.Receiver.NewRoute();
        await CreateAsync(workspace.Client, receiver.Url, "*");

        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, Ct)).StatusCode);
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(receiver.Received.Any(r => r.Event == "channel.disconnected")), "the disconnect never arrived");

        // Unipile's own status webhooks may still land after the connect; the connect itself happened before the endpoint
        Assert.DoesNotContain(receiver.Received, r => r.Event is "channel.connect_started" or "channel.connected");
    }

    [Fact]
    public async Task AReceiverThatHangsHoldsUpNoOtherEndpoint()
    {
        var workspace = await app.NewWorkspaceAsync();
        var stuck = app.Receiver.NewRoute();
        stuck.Answer([.. Enumerable.Repeat(ReceiverAnswer.Hang, 20)]);   // each of its deliveries takes the whole 30 s timeout
        var fine = app.Receiver.NewRoute();
        await CreateAsync(workspace.Client, stuck.Url, "*");
        await CreateAsync(workspace.Client, fine.Url, "*");

        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct)).StatusCode);

        // each event's two deliveries are claimed together; the fine endpoint still gets every one at once
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(fine.Received.Any(r => r.Event == "channel.disconnected")), "a hanging receiver held up the others");
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(stuck.Received.Any(r => r.Event == "channel.disconnected")), "the stuck one was not tried");
    }

    private static long EventId(ReceivedDelivery received) => received.Json.GetProperty("data").GetProperty("event_id").GetInt64();

    private static async Task<JsonElement[]> TimelineAsync(HttpClient client)
    {
        var page = await (await client.GetAsync("/api/v1/channels/events?after=0&per_page=100", Ct)).BodyAsync();
        return [.. page.GetProperty("data").EnumerateArray()];
    }
}
