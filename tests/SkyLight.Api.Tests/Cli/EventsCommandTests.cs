using System.Text.Json;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Cli;

/// <summary><c>skylight channels events</c>: the timeline as lines or JSON, and --follow tailing new events.</summary>
public sealed class EventsCommandTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventsPrintsTheTimelineNewestFirstAsOneJsonDocument()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var console = new CliConsole();

        var exit = await RunAsync(console, workspace, Ct, "channels", "events", "whatsapp", "--json");

        Assert.Equal(0, exit);
        var page = JsonDocument.Parse(console.Output).RootElement;
        Assert.Equal(["channel.connected", "channel.connect_started"], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(2, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task FollowPrintsEachNewEventAsItHappens()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var console = new CliConsole();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // the disconnect comes once the command has read where the journal stands: an event before that is not "new"
        var started = app.Gate.Arm(SkyLight.Api.Channels.Events.ChannelEventsApi.ListTag);
        var run = RunAsync(console, workspace, stop.Token, "channels", "events", "--follow");
        await started.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        app.Gate.Release();
        await Events.Client(workspace).WhatsApp.DisconnectAsync(Ct);
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(console.Output.Contains("channel.disconnected", StringComparison.Ordinal)),
            "the followed disconnect was never printed");
        await stop.CancelAsync();
        var exit = await run;

        Assert.Equal(0, exit);
        Assert.Matches(@"#\d+ \S+\+03:00 whatsapp channel\.disconnected OK → - \(disconnected_by_user, user\)", console.Output);
        Assert.DoesNotContain("channel.connect_started", console.Output, StringComparison.Ordinal);   // it starts at the newest event
    }

    private Task<int> RunAsync(CliConsole console, TestWorkspace workspace, CancellationToken ct, params string[] args) =>
        SkyLight.Cli.Program.RunAsync([.. args, "--api-url", app.CreateClient().BaseAddress!.ToString(), "--api-key", workspace.ApiKey], console,
            pollInterval: TimeSpan.FromMilliseconds(50), cancellationToken: ct);
}
