using System.Net;
using JournalFollower = SkyLight.Api.Channels.Events.JournalFollower;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Channels;

/// <summary>GET /channels/events/stream: the timeline live, resumable from the journal, per workspace.</summary>
public sealed class ChannelEventStreamTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private const string Path = "/api/v1/channels/events/stream";

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task EventsArriveAsTheyCommitInOrderShapedLikeTheTimeline()
    {
        var workspace = await app.NewWorkspaceAsync();
        await using var stream = await OpenAsync(workspace.Client);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);

        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
        var journal = (await Events.AllAsync(workspace, "whatsapp")).Concat(await Events.AllAsync(workspace, "telegram")).OrderBy(e => e.Id).ToList();
        var streamed = await ReadAsync(stream, journal.Count);

        Assert.Equal(journal, streamed.Select(m => m.Read<ChannelEvent>()));
        Assert.Equal(journal.Select(e => e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), streamed.Select(m => m.Id));
        Assert.Equal(journal.Select(e => e.Type), streamed.Select(m => m.Event));
        Assert.Equal(["channel.connect_started", "channel.connected", "channel.connect_started"], streamed.Select(m => m.Event));
    }

    [Fact]
    public async Task LastEventIdResumesFromTheJournalWithNoGapAndNoDuplicate()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var before = await Events.AllAsync(workspace, "whatsapp");   // connect_started, connected

        for (var round = 0; round < 5; round++)
        {
            // the stream is held between its subscription and its read of the journal while more events commit: they are
            // then both in the journal it reads and in the live buffer it reads next
            var held = app.Gate.ArmBefore(JournalFollower.CatchUpTag);
            var opening = OpenAsync(workspace.Client, lastEventId: before[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await held.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            await ChannelsApp.ConnectAsync(workspace.Client, "telegram");
            app.Gate.Release();
            await using var stream = await opening;

            var journal = (await Events.AllAsync(workspace, "whatsapp")).Concat(await Events.AllAsync(workspace, "telegram"))
                .Where(e => e.Id > before[0].Id).OrderBy(e => e.Id).ToList();
            var streamed = await ReadAsync(stream, journal.Count);
            Assert.Equal(journal.Select(e => e.Id), streamed.Select(m => m.Read<ChannelEvent>().Id));

            await ChannelsApp.ConnectAsync(workspace.Client, "telegram");   // and then live, still no duplicate
            var next = (await stream.NextMessageAsync()).Read<ChannelEvent>();
            Assert.True(next.Id > journal[^1].Id);
            Assert.Equal("telegram", next.ChannelType);
        }
    }

    [Fact]
    public async Task AfterInTheQueryResumesLikeLastEventIdAndTheHeaderWins()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var journal = await Events.AllAsync(workspace, "whatsapp");

        await using (var byQuery = await OpenAsync(workspace.Client, query: $"?after={journal[0].Id}"))
        {
            Assert.Equal(journal[1].Id, (await byQuery.NextMessageAsync()).Read<ChannelEvent>().Id);
        }
        await using var byHeader = await OpenAsync(workspace.Client, query: $"?after={journal[1].Id}", lastEventId: "0");
        Assert.Equal(journal.Select(e => e.Id), (await ReadAsync(byHeader, 2)).Select(m => m.Read<ChannelEvent>().Id));
    }

    [Fact]
    public async Task AnotherWorkspacesEventsNeverAppear()
    {
        var mine = await app.NewWorkspaceAsync();
        var theirs = await app.NewWorkspaceAsync();
        await ChannelsApp.ConnectAsync(theirs.Client, "telegram");
        await using var stream = await OpenAsync(mine.Client, lastEventId: "0");   // from the very start of the journal

        await ChannelsApp.ConnectAsync(theirs.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(mine.Client, "telegram");
        await ChannelsApp.ConnectAsync(theirs.Client, "telegram");
        await ChannelsApp.ConnectAsync(mine.Client, "whatsapp");
        var journal = (await Events.AllAsync(mine, "telegram")).Concat(await Events.AllAsync(mine, "whatsapp")).OrderBy(e => e.Id).ToList();
        var streamed = await ReadAsync(stream, journal.Count);

        Assert.Equal(journal, streamed.Select(m => m.Read<ChannelEvent>()));
        await ChannelsApp.ConnectAsync(theirs.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(mine.Client, "telegram");
        var later = (await Events.AllAsync(mine, "telegram")).Where(e => e.Id > journal[^1].Id).ToList();   // the new attempt replaced the old
        Assert.Equal(later, (await ReadAsync(stream, later.Count)).Select(m => m.Read<ChannelEvent>()));
    }

    [Fact]
    public async Task TypeNarrowsTheStreamToOneChannel()
    {
        var workspace = await app.NewWorkspaceAsync();
        await using var stream = await OpenAsync(workspace.Client, query: "?type=telegram");

        await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp");
        await ChannelsApp.ConnectAsync(workspace.Client, "telegram");

        var telegram = Assert.Single(await Events.AllAsync(workspace, "telegram"));
        Assert.Equal(telegram, (await stream.NextMessageAsync()).Read<ChannelEvent>());
    }

    [Theory]
    [InlineData("?after=-1", null, "after")]
    [InlineData("?after=x", null, "after")]
    [InlineData("", "1.5", "last-event-id")]
    [InlineData("?type=sms", null, "type")]
    public async Task ABadResumePointOrTypeIsA422OnItsField(string query, string? lastEventId, string field)
    {
        var workspace = await app.NewWorkspaceAsync();
        await using var stream = await OpenAsync(workspace.Client, query, lastEventId, expectOk: false);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, stream.Response.StatusCode);
        var errors = (await stream.Response.BodyAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task WithoutAKeyItIs401()
    {
        var response = await app.CreateClient().GetAsync(Path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    internal static async Task<EventStreamReader> OpenAsync(HttpClient client, string query = "", string? lastEventId = null, bool expectOk = true)
    {
        var stream = await EventStreamReader.OpenAsync(client, Path + query, lastEventId);
        if (expectOk)
        {
            Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        }
        return stream;
    }

    internal static async Task<List<StreamedMessage>> ReadAsync(EventStreamReader stream, int count)
    {
        var messages = new List<StreamedMessage>();
        while (messages.Count < count)
        {
            messages.Add(await stream.NextMessageAsync());
        }
        return messages;
    }
}
