using System.Collections.Concurrent;
using System.Net;
using SkyLight.Api.Tests.Channels;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>The SDK's event stream and the login watch that rides on it, against the service over real HTTP.</summary>
public sealed class StreamSdkTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private readonly CancellationTokenSource _test = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public async ValueTask DisposeAsync()
    {
        await _test.CancelAsync();   // the streams this test still reads
        _test.Dispose();
    }

    [Fact]
    public async Task TheStreamYieldsEachEventOnceInOrder()
    {
        var (workspace, client, _) = await ClientAsync();
        var streamed = Collect(client.Channels.StreamEventsAsync(after: 0, cancellationToken: _test.Token));

        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        var journal = (await Events.AllAsync(workspace, "whatsapp")).Concat(await Events.AllAsync(workspace, "telegram")).OrderBy(e => e.Id).ToList();

        Assert.Equal(journal, await streamed.UntilAsync(journal.Count));
    }

    [Fact]
    public async Task ACutConnectionIsResumedWithLastEventIdWithNoGapAndNoDuplicate()
    {
        var cutter = new StreamCutter(afterEvents: 2);
        var (workspace, client, _) = await ClientAsync(cutter);
        var streamed = Collect(client.Channels.StreamEventsAsync(cancellationToken: _test.Token));
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref cutter.Opened) == 1), "the stream never opened");

        for (var round = 0; round < 3; round++)
        {
            await ChannelsApp.ConnectAsync(workspace.Client, "telegram");   // each replaces the last: 1, then 2 events
        }
        var journal = await Events.AllAsync(workspace, "telegram");
        var received = await streamed.UntilAsync(journal.Count, seconds: 20);

        Assert.Equal(journal.Select(e => e.Id), received.Select(e => e.Id));
        Assert.True(cutter.Connections.Count >= 2, "the stream was never cut");
        Assert.Null(cutter.Connections.First());
        Assert.NotNull(cutter.Connections.Last());   // the reconnect named where it stood
    }

    [Fact]
    public async Task ASilentConnectionIsTreatedAsDeadAndResumedWithNoGapAndNoDuplicate()
    {
        var staller = new StreamCutter(afterEvents: 1, stall: true);
        var (workspace, client, _) = await ClientAsync(staller, idleTimeout: TimeSpan.FromSeconds(1));
        var streamed = Collect(client.Channels.StreamEventsAsync(cancellationToken: _test.Token));
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref staller.Opened) == 1), "the stream never opened");

        for (var round = 0; round < 2; round++)
        {
            await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        }
        var journal = await Events.AllAsync(workspace, "telegram");
        var received = await streamed.UntilAsync(journal.Count, seconds: 20);

        Assert.Equal(journal.Select(e => e.Id), received.Select(e => e.Id));
        Assert.True(staller.Connections.Count >= 2, "the silent stream was never given up");
        Assert.NotNull(staller.Connections.Last());
    }

    [Fact]
    public async Task TheHttpClientTimeoutDoesNotCutAStream()
    {
        var counter = new StreamCutter(afterEvents: int.MaxValue);
        var (workspace, client, _) = await ClientAsync(counter, httpTimeout: TimeSpan.FromSeconds(1));
        var streamed = Collect(client.Channels.StreamEventsAsync(cancellationToken: _test.Token));
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref counter.Opened) == 1), "the stream never opened");

        // the timeout is HttpClient's own, on the real clock: only outliving it shows it does not apply past the headers
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        var journal = await Events.AllAsync(workspace, "telegram");

        Assert.Equal(journal.Select(e => e.Id), (await streamed.UntilAsync(journal.Count)).Select(e => e.Id));
        Assert.Single(counter.Connections);
    }

    [Fact]
    public async Task ARefusedStreamEndsWithTheApiError()
    {
        var (_, client, _) = await ClientAsync();
        var stranger = new SkyLightClient(app.CreateClient(), new SkyLightClientOptions { ApiKey = "sk_live_not_a_key" });

        var badType = await Assert.ThrowsAsync<SkyLightApiException>(() => ReadAllAsync(client.Channels.StreamEventsAsync(type: "fax", cancellationToken: Ct)));
        var badKey = await Assert.ThrowsAsync<SkyLightApiException>(() => ReadAllAsync(stranger.Channels.StreamEventsAsync(cancellationToken: Ct)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, badType.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
    }

    [Fact]
    public async Task ConnectAndWatchFollowsTheStreamInsteadOfPolling()
    {
        var counter = new StreamCutter(afterEvents: int.MaxValue);
        var (_, client, _) = await ClientAsync(counter);
        var updates = new List<QrLoginUpdate>();

        await foreach (var update in client.WhatsApp.ConnectAndWatchAsync(Ct))
        {
            updates.Add(update);
            if (update.Status is null)
            {
                await app.ScanAsync(update.Connection.AccountId);
            }
        }

        Assert.True(updates[^1].IsFinal && updates[^1].Status!.Completed);
        Assert.Single(counter.Connections);
        // one read of the status per event about the attempt (started, connected), none on a timer
        Assert.InRange(counter.StatusReads, 1, 2);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]           // a server without the stream
    [InlineData(HttpStatusCode.MethodNotAllowed)]   // a server without the stream, behind a router that says so
    [InlineData(HttpStatusCode.ServiceUnavailable)] // a stream that cannot be opened now
    [InlineData(HttpStatusCode.TooManyRequests)]    // a key that holds all the streams it may
    public async Task WithoutAStreamConnectAndWatchPolls(HttpStatusCode refusal)
    {
        var (_, client, counter) = await ClientAsync(new StreamCutter(afterEvents: 0, refuse: refusal));
        var updates = new List<QrLoginUpdate>();

        await foreach (var update in client.Telegram.ConnectAndWatchAsync(Ct))
        {
            updates.Add(update);
            if (update.Status is null)
            {
                await app.ScanAsync(update.Connection.AccountId);
            }
        }

        Assert.True(updates[^1].Status!.Completed);
        Assert.True(counter!.StatusReads >= 1);
    }

    [Fact]
    public async Task AnEventThatIsNotJsonIsAnApiErrorNotAJsonException()
    {
        using var http = new HttpClient(new GarbledStream()) { BaseAddress = new Uri("http://127.0.0.1/") };
        var client = new SkyLightClient(http, new SkyLightClientOptions { ApiKey = "sk_live_x" });

        var error = await Assert.ThrowsAsync<SkyLightApiException>(() => ReadAllAsync(client.Channels.StreamEventsAsync(cancellationToken: Ct)));

        Assert.Equal("The API's answer was not a channel event (the stream sent channel.connected).", error.Message);
    }

    /// <summary>A stream whose one event carries text that is not JSON, as a broken proxy might send.</summary>
    private sealed class GarbledStream : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("retry: 3000\n\nid: 1\nevent: channel.connected\ndata: {not json\n\n", System.Text.Encoding.UTF8, "text/event-stream"),
            });
    }

    private async Task<(TestWorkspace Workspace, SkyLightClient Client, StreamCutter? Handler)> ClientAsync(StreamCutter? handler = null,
        TimeSpan? idleTimeout = null, TimeSpan? httpTimeout = null)
    {
        var workspace = await app.NewWorkspaceAsync();
        var options = new SkyLightClientOptions { ApiKey = workspace.ApiKey, PollInterval = TimeSpan.FromMilliseconds(100) };
        options.StreamIdleTimeout = idleTimeout ?? options.StreamIdleTimeout;
        var http = handler is null ? app.CreateClient() : app.CreateDefaultClient(handler);
        http.BaseAddress = app.CreateClient().BaseAddress;
        http.Timeout = httpTimeout ?? http.Timeout;
        return (workspace, new SkyLightClient(http, options), handler);
    }

    private static async Task ReadAllAsync(IAsyncEnumerable<ChannelEvent> events)
    {
        await foreach (var _ in events)
        {
        }
    }

    private Received Collect(IAsyncEnumerable<ChannelEvent> events)
    {
        var received = new Received();
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var channelEvent in events)
                {
                    received.Events.Enqueue(channelEvent);
                }
            }
            catch (OperationCanceledException)
            {
                // the test ended
            }
        }, _test.Token);
        return received;
    }

    private sealed class Received
    {
        public ConcurrentQueue<ChannelEvent> Events { get; } = new();

        public async Task<List<ChannelEvent>> UntilAsync(int count, double seconds = 10)
        {
            await ChannelsApp.WaitUntilAsync(() => Task.FromResult(Events.Count >= count), $"fewer than {count} events streamed: {Events.Count}", seconds);
            await Task.Yield();
            return [.. Events];
        }
    }
}
