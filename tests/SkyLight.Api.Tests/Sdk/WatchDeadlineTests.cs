using SkyLight.Api.Tests.Channels;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>Attempts that live 2 s on the real clock: a watch can outlive one within a test.</summary>
public sealed class BriefAttemptsApp : ChannelsApp
{
    public BriefAttemptsApp() => Settings["Channels:AttemptLifetime"] = "00:00:02";
}

/// <summary>The login watch ends once its QR expired, even when its stream never says so.</summary>
public sealed class WatchDeadlineTests(BriefAttemptsApp app) : IClassFixture<BriefAttemptsApp>
{
    [Fact]
    public async Task ConnectAndWatchEndsPastTheQrsExpiryWhenTheStreamSaysNothing()
    {
        var silent = new StreamCutter(afterEvents: 0, stall: true);   // open, then not a byte: no event, no heartbeat
        var workspace = await app.NewWorkspaceAsync();
        using var http = app.CreateDefaultClient(silent);
        http.BaseAddress = app.CreateClient().BaseAddress;
        var client = new SkyLightClient(http, new SkyLightClientOptions { ApiKey = workspace.ApiKey });
        var updates = new List<QrLoginUpdate>();

        await foreach (var update in client.WhatsApp.ConnectAndWatchAsync(TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        Assert.Equal(2, updates.Count);   // the QR, then the final status
        Assert.True(updates[1].IsFinal && updates[1].Status!.Failed);
        Assert.True(TimeProvider.System.GetUtcNow() >= updates[0].Connection.ExpiresAt.AddSeconds(5));
        Assert.Equal(1, silent.StatusReads);   // that one read, at the deadline
        Assert.Single(silent.Connections);
    }
}
