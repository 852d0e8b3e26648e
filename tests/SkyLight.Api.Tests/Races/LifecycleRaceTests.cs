using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Races;

/// <summary>
/// Interleavings a review found: a request held at a chosen point while another runs. Each test states the promise it
/// checks: no 500, no wrong status, no account deleted that a 200 promised, no login completed that nobody made.
/// </summary>
public sealed class LifecycleRaceTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.ResetEmulatorAsync();

    public ValueTask DisposeAsync()
    {
        app.Gate.Release();
        return ValueTask.CompletedTask;
    }

    private string[] ErrorLines() => [.. app.Logs.Lines.Where(line => line.StartsWith("Error ", StringComparison.Ordinal) || line.StartsWith("Critical ", StringComparison.Ordinal))];

    /// <summary>
    /// Instagram asks for a second code; while Unipile answers the first one, the user disconnects. The solve then
    /// saves the next checkpoint on an attempt the disconnect deleted: DbUpdateConcurrencyException, unhandled.
    /// </summary>
    [Fact]
    public async Task AnInstagramSecondRoundAnsweredAfterADisconnectIsNotA500()
    {
        var errorsBefore = ErrorLines().Length;
        var workspace = await app.NewWorkspaceAsync();
        var username = $"rv_{Guid.NewGuid():N}"[..20];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "2FA", "OTP" }, code = "123456" });
        var connect = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/connect", new { username, password = "pw" }, Ct);
        Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
        var accountId = (await connect.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts/checkpoint", answer_delay_ms = 1500 });
        var solve = workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa", new { account_id = accountId, code = "123456" }, Ct);
        await ChannelsApp.WaitUntilAsync(async () => await app.UnipileCallsAsync("POST", "/api/v1/accounts/checkpoint") >= 1, "the solve never reached Unipile");
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/instagram/disconnect", null, Ct)).StatusCode);

        var answer = await solve;
        Assert.True((int)answer.StatusCode < 500, $"the solve answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync(Ct)}");
        Assert.Empty(ErrorLines().Skip(errorsBefore));
    }

    /// <summary>
    /// A node that got Unipile's answer stalls before its commit for longer than the reconciler's grace (2 × timeout
    /// + 4 s; 8 s here). The reconciler sees an unrecorded account in the intent's window and queues it for deletion;
    /// then the stalled node commits the attempt and answers 200 with a QR whose account no longer exists.
    /// </summary>
    [Fact]
    public async Task AConnectTooSlowToRecordItsAccountBeforeTheReconcilerTookItAnswers504AndLeavesNothing()
    {
        var workspace = await app.NewWorkspaceAsync();
        var stalled = app.Gate.ArmTransaction(nameof(AttemptStore));
        var connect = workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        await stalled.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        app.Clock.Advance(TimeSpan.FromSeconds(10));   // the stall: Grace is 8 s with Unipile:RequestTimeout 2 s
        await ChannelsApp.WaitUntilAsync(async () => !await IntentsLeftAsync(), "the reconciler never took the stalled connect's intent");
        app.Gate.Release();

        // the reconciler took the intent first: the connect must not answer 200 for an account being deleted
        var answer = await connect;
        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.StatusCode);
        await (await workspace.Client.GetAsync("/api/v1/channels/whatsapp/qr", Ct)).AssertErrorAsync(404, "No WhatsApp QR code is waiting to be scanned.");
        Assert.Empty(await app.OrphanedAccountsAsync());
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct)).StatusCode);   // a retry works
    }

    /// <summary>
    /// PostgreSQL: a connect replacing a pending attempt locks that attempt (its first statement) and then the channel;
    /// a disconnect locks the channel and then, by the cascade, the attempt. Deadlock: PostgreSQL aborts one; when it
    /// is the disconnect, DbUpdateException (not a concurrency exception) escapes as a 500.
    /// </summary>
    [Fact]
    public async Task AConnectReplacingAPendingAttemptAndADisconnectTogetherNeverAnswer500()
    {
        var errorsBefore = ErrorLines().Length;
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;

        // the replacing connect has ended the pending attempt (and queued its account) in its transaction
        var held = app.Gate.ArmCommand(sql => sql.Contains("remote_deletions", StringComparison.Ordinal) && sql.Contains("INSERT", StringComparison.Ordinal));
        var connect = workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var disconnect = workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
        await Task.Delay(500, Ct);   // the disconnect is now waiting on the connect's lock (PostgreSQL) or the write lock (SQLite)
        app.Gate.Release();

        var answers = await Task.WhenAll(connect, disconnect);
        Assert.All(answers, a => Assert.True((int)a.StatusCode < 500, $"{a.RequestMessage!.RequestUri} answered {(int)a.StatusCode}"));
        await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
        Assert.Empty(ErrorLines().Skip(errorsBefore));
        Assert.DoesNotContain(first, await app.OrphanedAccountsAsync());
    }

    /// <summary>
    /// The same race, with Unipile finishing after the disconnect's deletion ran: Unipile answers 404 for the attempt's
    /// account and the caller gets a 502 ("Unipile returned an error") for an attempt that was simply disconnected.
    /// </summary>
    [Fact]
    public async Task AnInstagramCodeForAnAttemptDisconnectedMeanwhileIsA404NotA502()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = $"rv_{Guid.NewGuid():N}"[..20];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "2FA" }, code = "123456" });
        var connect = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/connect", new { username, password = "pw" }, Ct);
        var accountId = (await connect.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts/checkpoint", delay_ms = 1500 });
        var solve = workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa", new { account_id = accountId, code = "123456" }, Ct);
        await ChannelsApp.WaitUntilAsync(async () => await app.UnipileCallsAsync("POST", "/api/v1/accounts/checkpoint") >= 1, "the solve never reached Unipile");
        Assert.Equal(HttpStatusCode.NoContent, (await workspace.Client.PostAsync("/api/v1/channels/instagram/disconnect", null, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await solve).StatusCode);
    }

    /// <summary>
    /// An authenticated CREATION_SUCCESS webhook for a QR nobody scanned: Unipile itself says CONNECTING, yet the
    /// attempt completes and the channel shows connected (and every later sync keeps is_connected, since CONNECTING
    /// "keeps" it). The README promises webhooks converge on Unipile's state, not on their message.
    /// </summary>
    [Fact]
    public async Task ACreationSuccessWebhookForAnUnscannedQrDoesNotConnectTheChannel()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        var body = "{\"AccountStatus\":{\"account_id\":\"" + accountId + "\",\"account_type\":\"WHATSAPP\",\"message\":\"CREATION_SUCCESS\"}}";
        Assert.Equal(HttpStatusCode.OK, (await app.PostWebhookAsync(body, app.WebhookSecret)).StatusCode);
        await app.InboxDrainedAsync();

        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId);
        Assert.False(status.GetProperty("is_connected").GetBoolean(), $"an unscanned QR shows connected: {status}");
        await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
    }

    /// <summary>
    /// A status held between its first and its second read while the scan completes the login: read in the wrong order,
    /// it showed the completed attempt with the channel from before (completed and in_progress both false: "failed").
    /// </summary>
    [Fact]
    public async Task AStatusReadAcrossACompletionNeverShowsTheLoginAsFailed()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;

        var held = app.Gate.Arm(ChannelReadModel.FirstReadTag);
        var status = ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId);
        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await app.ScanAsync(accountId);
        await ChannelsApp.WaitUntilAsync(async () => await ConnectedAsync(accountId), "the scan never completed the login");
        app.Gate.Release();
        var answer = await status;

        Assert.True(answer.GetProperty("completed").GetBoolean() || answer.GetProperty("in_progress").GetBoolean(), $"the login showed as failed: {answer}");
        await workspace.Client.PostAsync("/api/v1/channels/whatsapp/disconnect", null, Ct);
    }

    private async Task<bool> ConnectedAsync(string accountId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Data.SkyLightDb>().Channels.IgnoreQueryFilters()
            .AnyAsync(c => c.UnipileAccountId == accountId && c.IsConnected, Ct);
    }

    private async Task<bool> IntentsLeftAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Data.SkyLightDb>().AccountCreations.AnyAsync(Ct);
    }
}
