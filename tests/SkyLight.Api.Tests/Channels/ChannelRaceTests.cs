using System.Net;
using System.Net.Http.Json;
using SkyLight.Api.Channels;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// Requests on one channel that run at the same time, as real clients send them: never a 500, never an account
/// left at Unipile that nothing here records (the fixture checks that on dispose), never an Error log line.
/// </summary>
public sealed class ChannelRaceTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync()
    {
        app.Gate.Release();
        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData("whatsapp")]
    [InlineData("telegram")]
    [InlineData("instagram")]
    public async Task SimultaneousDisconnectsRefreshesAndStatusesOnOneChannelNeverAnswer500(string type)
    {
        var errorsBefore = ErrorLines().Length;
        var all = new List<int>();
        for (var round = 0; round < 4; round++)
        {
            var workspace = await app.NewWorkspaceAsync();
            await ConnectAsync(workspace, type);

            var disconnects = Enumerable.Range(0, 8).Select(_ => workspace.Client.PostAsync($"/api/v1/channels/{type}/disconnect", null, Ct));
            var refreshes = Enumerable.Range(0, 8).Select(_ => workspace.Client.PostAsync($"/api/v1/channels/{type}/refresh", null, Ct));
            var statuses = Enumerable.Range(0, 8).Select(_ => workspace.Client.GetAsync($"/api/v1/channels/{type}/status", Ct));
            var answers = await Task.WhenAll([.. disconnects, .. refreshes, .. statuses]);

            var codes = answers.Select(a => (int)a.StatusCode).ToArray();
            all.AddRange(codes);
            Assert.DoesNotContain(codes, code => code >= 500);
            Assert.Equal(1, codes[..8].Count(code => code == 204));
            Assert.All(codes[..8].Where(code => code != 204), code => Assert.Equal(404, code));
            Assert.All(codes[8..], code => Assert.True(code is 200 or 404, $"a refresh or status answered {code}"));
        }
        Report($"concurrency, {type}: 8 disconnects + 8 refreshes + 8 statuses at once, 4 rounds", all);
        Assert.Empty(ErrorLines().Skip(errorsBefore));
        Assert.Empty(await app.OrphanedAccountsAsync());
    }

    [Theory]
    [InlineData("whatsapp")]
    [InlineData("telegram")]
    public async Task ConnectsRefreshesStatusesAndDisconnectsTogetherLeaveNoOrphanAndNo500(string type)
    {
        var errorsBefore = ErrorLines().Length;
        var codes = new List<int>();
        for (var round = 0; round < 6; round++)
        {
            var workspace = await app.NewWorkspaceAsync();
            var connect = ChannelsApp.ConnectAsync(workspace.Client, type);
            var accountId = (await connect).GetProperty("account_id").GetString()!;
            var scan = round % 2 == 0 ? app.ScanAsync(accountId, new { phone_number = "966501234567", username = "racer" }) : Task.CompletedTask;
            var calls = new List<Task<HttpResponseMessage>>();
            for (var i = 0; i < 3; i++)
            {
                calls.Add(workspace.Client.PostAsync($"/api/v1/channels/{type}/connect", null, Ct));
                calls.Add(workspace.Client.GetAsync($"/api/v1/channels/{type}/status?account_id={accountId}", Ct));
                calls.Add(workspace.Client.PostAsync($"/api/v1/channels/{type}/refresh", null, Ct));
                calls.Add(workspace.Client.PostAsync($"/api/v1/channels/{type}/disconnect", null, Ct));
            }
            await scan;
            codes.AddRange((await Task.WhenAll(calls)).Select(a => (int)a.StatusCode));
            // whatever survived is disconnected, so every account the round made must go
            var last = await workspace.Client.PostAsync($"/api/v1/channels/{type}/disconnect", null, Ct);
            Assert.True(last.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound, $"the last disconnect answered {last.StatusCode}");
        }
        Report($"concurrency, {type}: connect + status + refresh + disconnect ×3 at once, 6 rounds", codes);
        Assert.DoesNotContain(codes, code => code >= 500);
        Assert.Empty(ErrorLines().Skip(errorsBefore));
        Assert.Empty(await app.OrphanedAccountsAsync());
    }

    [Fact]
    public async Task ADisconnectRacingAStatusPollThatCompletesTheLoginStillDeletesTheScannedAccount()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });   // the poll completes it
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        await app.ScanAsync(accountId);

        // the disconnect has read the channel (no account yet) when the status poll completes the login
        var held = app.Gate.Arm(ChannelsApi.DisconnectReadTag);
        var disconnect = workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var completed = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId);
        app.Gate.Release();

        Assert.True(completed.GetProperty("completed").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await disconnect).StatusCode);
        Assert.DoesNotContain(accountId, await app.OrphanedAccountsAsync());
        Assert.DoesNotContain(accountId, await app.EmulatorAccountIdsAsync());
    }

    [Fact]
    public async Task AConnectReplacingAnAttemptThatEndsMeanwhileAnswersAFreshQr()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", delay_ms = 1500 });

        var second = workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        // while Unipile makes the new account, the first attempt ends: Unipile lost it, and a status poll notices (a poll
        // whose Unipile read takes over 1 s under load answers from local records: the next poll, 2 s on, reads again)
        await ChannelsApp.WaitUntilAsync(async () => await app.UnipileCallsAsync("POST", "/api/v1/accounts") >= 2, "the second connect never reached Unipile");
        await app.EmulatorAsync(HttpMethod.Delete, $"/api/v1/accounts/{first}");
        var ended = await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", first, s => !s.GetProperty("in_progress").GetBoolean());
        Assert.False(second.IsCompleted, "the first attempt must end while the second connect waits for Unipile");

        Assert.Equal((false, "CREATION_FAIL"), (ended.GetProperty("in_progress").GetBoolean(), ended.GetProperty("sync_status").GetString()));
        var answer = await second;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var fresh = (await answer.BodyAsync()).GetProperty("data");
        Assert.NotEqual(first, fresh.GetProperty("account_id").GetString());
        Assert.StartsWith("2@", fresh.GetProperty("qr_code").GetString(), StringComparison.Ordinal);
        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp");
        Assert.True(status.GetProperty("in_progress").GetBoolean());
    }

    private async Task ConnectAsync(TestWorkspace workspace, string type)
    {
        if (type == "instagram")
        {
            var response = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/connect", new { username = $"racer_{Guid.NewGuid():N}"[..20], password = "secret-pass" }, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }
        await app.ConnectedChannelAsync(workspace.Client, type, new { phone_number = "966501234567", username = "racer" });
    }

    private static void Report(string what, List<int> codes) =>
        TestReport.Line($"{what}: {codes.Count} calls, responses >= 500: {codes.Count(c => c >= 500)}; answers " +
            string.Join(", ", codes.GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));

    private string[] ErrorLines() => [.. app.Logs.Lines.Where(line => line.StartsWith("Error ", StringComparison.Ordinal) || line.StartsWith("Critical ", StringComparison.Ordinal))];
}
