using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>The stream on the fake clock, with two streams per key allowed.</summary>
public sealed class StreamLimitsApp : SkyLightApp
{
    public StreamLimitsApp() => Settings["Streams:MaxConnectionsPerKey"] = "2";
}

/// <summary>Heartbeats on a quiet stream, the cap on streams per key, and one rate-limit count per stream.</summary>
public sealed class EventStreamLimitTests(StreamLimitsApp app) : IClassFixture<StreamLimitsApp>
{
    [Fact]
    public async Task AQuietStreamSendsAHeartbeatCommentEvery15Seconds()
    {
        var workspace = await app.NewWorkspaceAsync();
        await using var stream = await ChannelEventStreamTests.OpenAsync(workspace.Client);

        for (var beat = 0; beat < 3; beat++)
        {
            var next = stream.NextAsync();
            // the stream sets its timer once it has written; until the clock's move meets it, move again
            while (!next.IsCompleted)
            {
                app.Time.Advance(TimeSpan.FromSeconds(15));
                await Task.WhenAny(next, Task.Delay(50, TestContext.Current.CancellationToken));
            }
            Assert.Equal("heartbeat", (await next).Comment);
        }
    }

    [Fact]
    public async Task AKeyHoldsAtMostTheConfiguredStreamsAndGetsOneBackWhenItClosesOne()
    {
        var workspace = await app.NewWorkspaceAsync();
        await using var first = await ChannelEventStreamTests.OpenAsync(workspace.Client);
        var second = await ChannelEventStreamTests.OpenAsync(workspace.Client);

        await using (var third = await ChannelEventStreamTests.OpenAsync(workspace.Client, expectOk: false))
        {
            await third.Response.AssertErrorAsync(429, "This API key holds 2 open event streams, the most it may. Close one first.", "retry_after");
        }
        var other = await app.NewWorkspaceAsync();   // another key is not held back
        await using (await ChannelEventStreamTests.OpenAsync(other.Client))
        {
        }

        await second.DisposeAsync();
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            await using var again = await ChannelEventStreamTests.OpenAsync(workspace.Client, expectOk: false);
            return again.Response.StatusCode == HttpStatusCode.OK;
        }, "the closed stream's slot never came back");
    }

    [Fact]
    public async Task AStreamCountsOnceInTheRateLimit()
    {
        var workspace = await app.NewWorkspaceAsync();
        var before = Remaining(await workspace.Client.GetAsync("/api/v1/account", TestContext.Current.CancellationToken));

        await using var stream = await ChannelEventStreamTests.OpenAsync(workspace.Client);

        Assert.Equal(before - 1, Remaining(stream.Response));
        Assert.Equal(before - 2, Remaining(await workspace.Client.GetAsync("/api/v1/account", TestContext.Current.CancellationToken)));
    }

    private static int Remaining(HttpResponseMessage response) => int.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(),
        System.Globalization.CultureInfo.InvariantCulture);
}
