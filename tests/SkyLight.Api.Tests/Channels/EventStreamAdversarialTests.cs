using System.Globalization;
using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// Defects an adversarial pass found in GET /api/v1/channels/events/stream (each failed before its fix).
/// </summary>
public sealed class EventStreamAdversarialTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Was: Last-Event-ID (or ?after=) beyond any event the journal holds is taken as it is: the
    /// stream opens 200 and then silently skips every event until the journal's ids catch up with it (forever for
    /// 9223372036854775807). A client whose id comes from another deployment, or a database restored from a backup,
    /// never learns it is missing events. Expected: a 422 on Last-Event-ID for an id after the journal's newest one
    /// (or a stream that starts from the newest event), never a stream that drops the events it is opened for.
    /// </summary>
    [Fact]
    public async Task ALastEventIdBeyondTheJournalFollowsFromItsNewestEvent()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (_, accountId) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var newest = (await Events.AllAsync(workspace, "whatsapp")).Max(e => e.Id);
        await using var stream = await EventStreamReader.OpenAsync(workspace.Client, "/api/v1/channels/events/stream",
            (newest + 1_000_000).ToString(CultureInfo.InvariantCulture));
        if (stream.Response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            return;   // refused: what is expected
        }

        await app.EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        StreamedMessage message;
        do
        {
            message = await stream.NextAsync(8);   // times out (the defect): the new event never comes
        }
        while (message.Comment is not null);
        Assert.Equal("channel.status_changed", message.Event);
    }
}
