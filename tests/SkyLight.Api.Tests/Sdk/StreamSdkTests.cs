using System.Collections.Concurrent;
using System.Net;
using System.Text;
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
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(cutter.Connections.Count == 1), "the stream never opened");

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
    [InlineData(HttpStatusCode.NotFound)]          // a server without the stream
    [InlineData(HttpStatusCode.TooManyRequests)]   // a key that holds all the streams it may
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

    private async Task<(TestWorkspace Workspace, SkyLightClient Client, StreamCutter? Handler)> ClientAsync(StreamCutter? handler = null)
    {
        var workspace = await app.NewWorkspaceAsync();
        var options = new SkyLightClientOptions { ApiKey = workspace.ApiKey, PollInterval = TimeSpan.FromMilliseconds(100) };
        var http = handler is null ? app.CreateClient() : app.CreateDefaultClient(handler);
        http.BaseAddress = app.CreateClient().BaseAddress;
        return (workspace, new SkyLightClient(http, options), handler);
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

    /// <summary>
    /// Between the SDK and the service: notes each stream connection's Last-Event-ID and counts status reads; cuts the
    /// first stream after it carried <c>afterEvents</c> events (mid-read, as a dropped connection does), or refuses every
    /// stream with the given status.
    /// </summary>
    private sealed class StreamCutter(int afterEvents, HttpStatusCode? refuse = null) : DelegatingHandler
    {
        private int _streams;

        public ConcurrentQueue<string?> Connections { get; } = new();

        public int StatusReads;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/status", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref StatusReads);
            }
            if (!path.EndsWith("/events/stream", StringComparison.Ordinal))
            {
                return await base.SendAsync(request, cancellationToken);
            }
            if (refuse is { } status)
            {
                return new HttpResponseMessage(status)
                {
                    Content = new StringContent("""{"success":false,"message":"Refused.","retry_after":5}""", Encoding.UTF8, "application/json"),
                };
            }
            Connections.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
            var response = await base.SendAsync(request, cancellationToken);
            if (Interlocked.Increment(ref _streams) == 1 && afterEvents < int.MaxValue)
            {
                var inner = await response.Content.ReadAsStreamAsync(cancellationToken);
                var cut = new StreamContent(new CuttingStream(inner, afterEvents));
                foreach (var header in response.Content.Headers)
                {
                    cut.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                response.Content = cut;
            }
            return response;
        }
    }

    /// <summary>Ends the stream (as a broken connection does) at the first read after <c>events</c> "event:" lines went through.</summary>
    private sealed class CuttingStream(Stream inner, int events) : Stream
    {
        private int _seen;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_seen >= events)
            {
                throw new IOException("the connection was cut");
            }
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _seen += CountOf(Encoding.UTF8.GetString(buffer.Span[..read]), "event: ");
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        private static int CountOf(string text, string what)
        {
            var count = 0;
            for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
            {
                count++;
            }
            return count;
        }
    }
}
