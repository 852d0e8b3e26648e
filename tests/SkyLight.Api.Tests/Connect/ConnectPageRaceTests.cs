using System.Net;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Connect;

/// <summary>The page's actions raced: tabs pressing at once, a disconnect in the middle, a budget under parallel posts.</summary>
public sealed class ConnectPageRaceTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task TabsStartingTheQrAtOnceShowOneAttemptAndOrphanNothing()
    {
        var answers = new List<HttpStatusCode>();
        for (var round = 0; round < 5; round++)
        {
            var workspace = await app.NewWorkspaceAsync();
            var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = round % 2 == 0 ? "whatsapp" : "telegram" });
            var tabs = new List<ConnectPageClient>();
            for (var tab = 0; tab < 6; tab++)
            {
                tabs.Add(await ConnectPageClient.OpenAsync(app, link.Url!));
            }

            var responses = await Task.WhenAll(tabs.Select(tab => tab.PostAsync("qr")));
            var states = await Task.WhenAll(responses.Select(r => ConnectPageClient.ReadAsync(r, r.StatusCode)));
            answers.AddRange(responses.Select(r => r.StatusCode));

            Assert.All(states, s => Assert.True(s.Screen is "qr" or "error", s.Screen));
            var now = await tabs[0].StateAsync();   // whatever each saw, the page settles on one attempt
            Assert.Equal("qr", now.Screen);
            Assert.All(await Task.WhenAll(tabs.Select(t => t.StateAsync())), s => Assert.Equal(now.QrImage, s.QrImage));
            tabs.ForEach(t => t.Dispose());
        }

        var orphans = await app.OrphanedAccountsAsync();
        TestReport.Line($"connect page: 5 rounds of 6 tabs starting the QR at once; answers {string.Join(", ", answers.GroupBy(a => (int)a)
            .Select(g => $"{g.Key}×{g.Count()}"))}; orphaned Unipile accounts: {orphans.Length}");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.Empty(orphans);
    }

    [Fact]
    public async Task ADisconnectRacingThePageLeavesNo5xxAndNoOrphan()
    {
        var answers = new List<int>();
        for (var round = 0; round < 5; round++)
        {
            var workspace = await app.NewWorkspaceAsync();
            var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "telegram" });
            using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
            await page.ActAsync("qr");

            var racing = await Task.WhenAll(
                page.PostAsync("qr"),
                workspace.Client.PostAsync("/api/v1/channels/telegram/disconnect", null, TestContext.Current.CancellationToken),
                page.PostAsync("qr"));
            answers.AddRange(racing.Select(r => (int)r.StatusCode));
        }

        await ChannelsApp.WaitUntilAsync(async () => await app.OrphanedAccountsAsync() is [], "the race left an account at Unipile");
        TestReport.Line($"connect page: 5 rounds of /qr racing a disconnect; answers {string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key}×{g.Count()}"))}");
        Assert.DoesNotContain(answers, a => a >= 500);
    }

    [Fact]
    public async Task TwentyParallelPasswordsSpendAtMostTheBudget()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = $"brand_{Guid.NewGuid():N}"[..20];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "right", checkpoints = Array.Empty<string>(), code = "1" });
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "instagram" });
        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        var before = await app.UnipileCallsAsync("POST", "/api/v1/accounts");

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => page.PostAsync("instagram/login", new { username, password = "wrong" })));

        var tries = await app.UnipileCallsAsync("POST", "/api/v1/accounts") - before;
        TestReport.Line($"connect page: 20 parallel wrong passwords on one link reached Unipile {tries} times (budget 5)");
        Assert.InRange(tries, 1, 5);
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
    }
}
