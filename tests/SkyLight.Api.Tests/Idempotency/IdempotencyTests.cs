using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Idempotency;

/// <summary>Idempotency-Key on POSTs: a repeat is answered with the first outcome, and the work is done once.</summary>
public sealed class IdempotencyTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task ARepeatedConnectIsReplayedAndUnipileIsCalledOnceAndTheQrStaysValid()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountsBefore = await app.UnipileCallsAsync("POST", "/api/v1/accounts");

        var first = await SendAsync(workspace, "/api/v1/channels/whatsapp/connect", null, "connect-1");
        var again = await SendAsync(workspace, "/api/v1/channels/whatsapp/connect", null, "connect-1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        var body = await first.Content.ReadAsStringAsync(Ct);
        Assert.Equal(body, await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(accountsBefore + 1, await app.UnipileCallsAsync("POST", "/api/v1/accounts"));
        var accountId = (await first.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;
        await app.ScanAsync(accountId);   // the QR the user scans is still the one answered
        await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", accountId, s => s.GetProperty("completed").GetBoolean());
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBodyIs422AndTheSameJsonReorderedIsAReplay()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = await SendAsync(workspace, LinksPath, """{"type":"telegram","state":"a"}""", "k-body");
        var reordered = await SendAsync(workspace, LinksPath, """ { "state" : "a", "type" : "telegram" } """, "k-body");
        var other = await SendAsync(workspace, LinksPath, """{"type":"telegram","state":"b"}""", "k-body");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal("true", reordered.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.Location, reordered.Headers.Location);
        await other.AssertErrorAsync(422, "This Idempotency-Key was already used with another request. Use a new key for a new request.");
        Assert.Equal(1, await LinksAsync(workspace));
    }

    [Fact]
    public async Task ConcurrentDuplicatesDoTheWorkOnceAndTheOthersGet409OrTheReplay()
    {
        var answers = new List<string>();
        for (var round = 0; round < 5; round++)
        {
            var workspace = await app.NewWorkspaceAsync();
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", "race")));
            answers.AddRange(responses.Select(r => $"{(int)r.StatusCode}{(r.Headers.Contains("Idempotent-Replayed") ? " replayed" : "")}"));

            Assert.Equal(1, await LinksAsync(workspace));
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created && !r.Headers.Contains("Idempotent-Replayed"));
            Assert.All(responses.Where(r => r.StatusCode == HttpStatusCode.Conflict), r => Assert.Equal("1", r.Headers.GetValues("Retry-After").Single()));
        }
        TestReport.Line($"idempotency: 5 rounds of 8 identical requests at once: {string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key} ×{g.Count()}"))}");
        Assert.DoesNotContain(answers, a => a.StartsWith('5'));
    }

    [Fact]
    public async Task KeysOfAnotherWorkspaceNeverCollide()
    {
        var mine = await app.NewWorkspaceAsync();
        var theirs = await app.NewWorkspaceAsync();

        var a = await SendAsync(mine, LinksPath, """{"type":"whatsapp"}""", "shared-key");
        var b = await SendAsync(theirs, LinksPath, """{"type":"whatsapp"}""", "shared-key");

        Assert.False(b.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(a.Headers.Location, b.Headers.Location);
        Assert.Equal((1, 1), (await LinksAsync(mine), await LinksAsync(theirs)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\tkey")]
    [InlineData("\"\"")]
    public async Task AMalformedKeyIs400(string key)
    {
        var workspace = await app.NewWorkspaceAsync();
        var response = await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", key);
        await response.AssertErrorAsync(400, "The Idempotency-Key header must be 1 to 255 visible ASCII characters.");
        Assert.Equal(0, await LinksAsync(workspace));
    }

    [Fact]
    public async Task A256CharacterKeyIs400AndTheQuotedFormIsTheSameKey()
    {
        var workspace = await app.NewWorkspaceAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", new string('k', 256))).StatusCode);

        var bare = await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", new string('k', 255));
        var quoted = await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", $"\"{new string('k', 255)}\"");

        Assert.Equal(HttpStatusCode.Created, bare.StatusCode);
        Assert.Equal("true", quoted.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task AValidationFailureIsNotStoredSoTheCorrectedRequestRuns()
    {
        var workspace = await app.NewWorkspaceAsync();
        var invalid = await SendAsync(workspace, LinksPath, """{"type":"fax"}""", "fix-me");
        var corrected = await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", "fix-me");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        Assert.False(corrected.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task ABusinessRefusalIsStoredAndReplayed()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.ConnectedChannelAsync(workspace.Client, "telegram");
        var refused = await SendAsync(workspace, LinksPath, """{"type":"telegram"}""", "refused");
        var again = await SendAsync(workspace, LinksPath, """{"type":"telegram"}""", "refused");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task WithoutAKeyNothingChanges()
    {
        var workspace = await app.NewWorkspaceAsync();
        await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", null);
        await SendAsync(workspace, LinksPath, """{"type":"whatsapp"}""", null);
        Assert.Equal(2, await LinksAsync(workspace));
    }

    internal const string LinksPath = "/api/v1/channels/connect-links";

    internal static async Task<HttpResponseMessage> SendAsync(TestWorkspace workspace, string path, string? body, string? key)
    {
        using var request = Json.Request(HttpMethod.Post, path, body ?? "", body is null ? null : "application/json");
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }
        var response = await workspace.Client.SendAsync(request, Ct);
        await response.Content.LoadIntoBufferAsync(Ct);
        return response;
    }

    private async Task<int> LinksAsync(TestWorkspace workspace)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ConnectLinks.IgnoreQueryFilters().CountAsync(l => l.WorkspaceId == workspace.Id, Ct);
    }
}

/// <summary>On the fake clock: a stored outcome is replayed within the retention, and forgotten after it.</summary>
public sealed class IdempotencyRetentionTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    [Fact]
    public async Task AKeyIsReplayedForTheRetentionThenRunsAgain()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = await IdempotencyTests.SendAsync(workspace, IdempotencyTests.LinksPath, """{"type":"whatsapp"}""", "daily");

        app.Time.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        var withinRetention = await IdempotencyTests.SendAsync(workspace, IdempotencyTests.LinksPath, """{"type":"whatsapp"}""", "daily");
        app.Time.Advance(TimeSpan.FromSeconds(2));
        var after = await IdempotencyTests.SendAsync(workspace, IdempotencyTests.LinksPath, """{"type":"whatsapp"}""", "daily");

        Assert.Equal("true", withinRetention.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(first.Headers.Location, withinRetention.Headers.Location);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.False(after.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(first.Headers.Location, after.Headers.Location);
    }

    [Fact]
    public async Task ExpiredKeysArePurged()
    {
        var workspace = await app.NewWorkspaceAsync();
        await IdempotencyTests.SendAsync(workspace, IdempotencyTests.LinksPath, """{"type":"telegram"}""", "purged");
        app.Time.Advance(TimeSpan.FromHours(25));

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            await app.Services.GetRequiredService<Api.Channels.Events.JournalRetention>().RunOnceAsync(TestContext.Current.CancellationToken);
            return !await db.IdempotencyRecords.AnyAsync(r => r.WorkspaceId == workspace.Id, TestContext.Current.CancellationToken);
        }, "the expired key was never purged");
    }
}
