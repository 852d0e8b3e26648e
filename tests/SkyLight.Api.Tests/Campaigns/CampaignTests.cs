using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Campaigns;

/// <summary>Campaign lifecycle: draft → running ⇄ paused, cancelled from any state that is not final.</summary>
public sealed class CampaignTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACampaignGoesThroughEveryTransition()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (channelId, _) = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");

        var created = await workspace.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Ramadan offers", channel_id = channelId }, Ct);
        var campaign = (await created.BodyAsync()).GetProperty("data");
        var id = campaign.GetProperty("id").GetInt32();
        var path = new List<string>();
        foreach (var action in new[] { "start", "pause", "resume", "pause", "start", "cancel" })
        {
            var moved = await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/{action}", null, Ct);
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            path.Add((await moved.BodyAsync()).GetProperty("data").GetProperty("status").GetString()!);
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/campaigns/{id}", created.Headers.Location?.ToString());
        Assert.Equal(("Ramadan offers", channelId, "draft"), (campaign.GetProperty("name").GetString(), campaign.GetProperty("channel_id").GetInt32(), campaign.GetProperty("status").GetString()));
        Assert.Equal(["running", "paused", "running", "paused", "running", "cancelled"], path);
        Assert.Equal("cancelled", (await Get(workspace.Client, id)).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("pause", "A draft campaign cannot pause; only a running one can.")]
    [InlineData("resume", "A draft campaign cannot resume; only a paused one can.")]
    public async Task IllegalTransitionsAre422(string action, string message)
    {
        var workspace = await app.NewWorkspaceAsync();
        var id = await DraftAsync(workspace, await app.ConnectedChannelAsync(workspace.Client, "telegram"));

        await (await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/{action}", null, Ct)).AssertErrorAsync(422, message);
    }

    [Fact]
    public async Task AFinishedCampaignCannotMoveAgain()
    {
        var workspace = await app.NewWorkspaceAsync();
        var id = await DraftAsync(workspace, await app.ConnectedChannelAsync(workspace.Client, "telegram"));
        await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/cancel", null, Ct);

        await (await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/start", null, Ct)).AssertErrorAsync(422, "A cancelled campaign cannot start; only a draft or paused one can.");
        await (await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/cancel", null, Ct)).AssertErrorAsync(422, "A cancelled campaign cannot cancel; only a draft or running or paused one can.");
    }

    [Fact]
    public async Task ACampaignCannotStartOnAChannelThatIsNotConnected()
    {
        var workspace = await app.NewWorkspaceAsync();
        var channelId = (await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()))
            .GetProperty("id").GetInt32();
        var id = await DraftAsync(workspace, (channelId, ""));

        await (await workspace.Client.PostAsync($"/api/v1/campaigns/{id}/start", null, Ct))
            .AssertErrorAsync(422, "The campaign's channel is not connected. Connect it before starting the campaign.");
        await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
    }

    [Fact]
    public async Task AnotherWorkspacesChannelIs422AndItsCampaignIs404()
    {
        var alice = await app.NewWorkspaceAsync();
        var bob = await app.NewWorkspaceAsync();
        var alicesChannel = await app.ConnectedChannelAsync(alice.Client, "telegram");
        var alicesCampaign = await DraftAsync(alice, alicesChannel);

        var stolen = await bob.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Not mine", channel_id = alicesChannel.ChannelId }, Ct);

        await stolen.AssertErrorAsync(422, "The given data was invalid.", "errors");
        Assert.Equal("The selected channel does not exist in this workspace.", (await stolen.BodyAsync()).GetProperty("errors").GetProperty("channel_id")[0].GetString());
        await (await bob.Client.GetAsync($"/api/v1/campaigns/{alicesCampaign}", Ct)).AssertErrorAsync(404, "Campaign not found.");
        await (await bob.Client.PostAsync($"/api/v1/campaigns/{alicesCampaign}/cancel", null, Ct)).AssertErrorAsync(404, "Campaign not found.");
        Assert.Equal("draft", (await Get(alice.Client, alicesCampaign)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task InvalidCampaignsAre422WithFieldErrors()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "" }, Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        Assert.Equal(["channel_id", "name"], (await response.BodyAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name).Order());
    }

    [Fact]
    public async Task TheListPagesFiltersByStatusAndCarriesMeta()
    {
        var workspace = await app.NewWorkspaceAsync();
        var channel = await app.ConnectedChannelAsync(workspace.Client, "whatsapp");
        var ids = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await DraftAsync(workspace, channel));
        }
        await workspace.Client.PostAsync($"/api/v1/campaigns/{ids[0]}/cancel", null, Ct);

        var page = await (await workspace.Client.GetAsync("/api/v1/campaigns?page=2&per_page=2", Ct)).BodyAsync();
        var drafts = await (await workspace.Client.GetAsync("/api/v1/campaigns?status=draft", Ct)).BodyAsync();
        var invalid = await workspace.Client.GetAsync("/api/v1/campaigns?per_page=500&status=sleeping", Ct);

        Assert.True(page.GetProperty("success").GetBoolean());
        Assert.Equal([ids[0]], page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()));
        Assert.Equal((2, 2, 2, 3), (page.GetProperty("meta").GetProperty("current_page").GetInt32(), page.GetProperty("meta").GetProperty("last_page").GetInt32(),
            page.GetProperty("meta").GetProperty("per_page").GetInt32(), page.GetProperty("meta").GetProperty("total").GetInt32()));
        Assert.Equal([ids[2], ids[1]], drafts.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()));
        await invalid.AssertErrorAsync(422, "The given data was invalid.", "errors");
    }

    [Theory]
    [InlineData("page=2147483647&per_page=100", "page")]   // (page - 1) * per_page overflowed into the first page
    [InlineData("page=1000001", "page")]
    [InlineData("page=0", "page")]
    [InlineData("page=-1", "page")]
    [InlineData("page=abc", "page")]
    [InlineData("page=", "page")]
    [InlineData("page=1.5", "page")]
    [InlineData("page=1&page=2", "page")]
    [InlineData("per_page=1e3", "per_page")]
    [InlineData("per_page=", "per_page")]
    [InlineData("per_page=101", "per_page")]
    [InlineData("per_page=0", "per_page")]
    [InlineData("per_page=99999999999", "per_page")]
    public async Task PagingOutOfRangeOrNotANumberIs422OnThatField(string query, string field)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.GetAsync($"/api/v1/campaigns?{query}", Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        var errors = (await response.BodyAsync()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal(field == "page" ? "The page must be a whole number from 1 to 1000000." : "The per_page must be a whole number from 1 to 100.",
            errors.GetProperty(field)[0].GetString());
    }

    [Fact]
    public async Task APagePastTheEndIsEmptyWithTheMetaOfTheList()
    {
        var workspace = await app.NewWorkspaceAsync();
        await DraftAsync(workspace, await app.ConnectedChannelAsync(workspace.Client, "telegram"));

        var page = await (await workspace.Client.GetAsync("/api/v1/campaigns?page=1000000&per_page=100", Ct)).BodyAsync();

        Assert.Empty(page.GetProperty("data").EnumerateArray());
        var meta = page.GetProperty("meta");
        Assert.Equal((1000000, 1, 100, 1), (meta.GetProperty("current_page").GetInt32(), meta.GetProperty("last_page").GetInt32(),
            meta.GetProperty("per_page").GetInt32(), meta.GetProperty("total").GetInt32()));
    }

    private static async Task<int> DraftAsync(TestWorkspace workspace, (int ChannelId, string AccountId) channel)
    {
        var response = await workspace.Client.PostAsJsonAsync("/api/v1/campaigns", new { name = "Campaign", channel_id = channel.ChannelId }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32();
    }

    private static async Task<JsonElement> Get(HttpClient client, int id) =>
        (await (await client.GetAsync($"/api/v1/campaigns/{id}", Ct)).BodyAsync()).GetProperty("data");
}
