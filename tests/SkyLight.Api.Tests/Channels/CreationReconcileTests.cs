using System.Net;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// A create that Unipile carries out after the service stopped waiting (504): the account exists at Unipile and
/// nothing here learned its id. The durable creation intent lets the reconciler find and delete it.
/// </summary>
public sealed class CreationReconcileTests(ChannelsApp app) : IClassFixture<ChannelsApp>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task AnAccountCreatedAfterTheConnectTimedOutIsFoundAndDeletedAndOtherLoginsAreLeftAlone()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", answer_delay_ms = 3000, count = 2 });

        var timedOut = await Task.WhenAll(
            workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct),
            workspace.Client.PostAsync("/api/v1/channels/telegram/connect", null, Ct));
        var untracked = await app.OrphanedAccountsAsync();
        // a login that starts meanwhile is recorded as usual and must survive the reconciliation
        var other = await app.NewWorkspaceAsync();
        var kept = (await ChannelsApp.ConnectAsync(other.Client, "whatsapp")).GetProperty("account_id").GetString()!;

        Assert.All(timedOut, response => Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode));
        Assert.Equal(2, untracked.Length);   // Unipile made both accounts; the service never heard their ids
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Intersect(untracked).Any(),
            "the accounts of the timed-out connects were never reconciled", seconds: 30);
        Assert.Contains(kept, await app.EmulatorAccountIdsAsync());
        Assert.Empty(await app.OrphanedAccountsAsync());
    }
}

/// <summary>The same service on a DSN it may share: an unrecorded account is reported, never deleted.</summary>
public sealed class SharedDsnApp : ChannelsApp
{
    public SharedDsnApp() => Settings["Unipile:DeleteUnrecordedAccounts"] = "false";
}

public sealed class SharedDsnReconcileTests(SharedDsnApp app) : IClassFixture<SharedDsnApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithDeletionOfUnrecordedAccountsOffTheAccountIsOnlyReported()
    {
        var workspace = await app.NewWorkspaceAsync();
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", new { method = "POST", path = "/api/v1/accounts", answer_delay_ms = 3000 });

        Assert.Equal(HttpStatusCode.GatewayTimeout, (await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct)).StatusCode);
        var untracked = Assert.Single(await app.OrphanedAccountsAsync());
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(app.Logs.Lines.Any(line => line.Contains($"Unipile account {untracked} looks created by an interrupted connect", StringComparison.Ordinal))),
            "the unrecorded account was never reported", seconds: 30);

        Assert.Contains(untracked, await app.EmulatorAccountIdsAsync());
        await app.EmulatorAsync(HttpMethod.Delete, $"/api/v1/accounts/{untracked}");   // the operator's part
    }
}
