using System.Net.Http.Json;

namespace SkyLight.Api.Tests.Channels;

public sealed class ShortAttemptsApp : ChannelsApp
{
    public ShortAttemptsApp() => Settings["Channels:AttemptLifetime"] = Lifetime.ToString();

    /// <summary>How long an attempt lives here: the tests move the clock past it.</summary>
    public static TimeSpan Lifetime => TimeSpan.FromMinutes(1);

    /// <summary>The attempts started so far are past their lifetime.</summary>
    public void OutliveAttempts() => Clock.Advance(Lifetime + TimeSpan.FromSeconds(1));
}

/// <summary>Attempts nobody completes end as CREATION_FAIL, and their Unipile accounts are deleted.</summary>
public sealed class AttemptExpiryTests(ShortAttemptsApp app) : IClassFixture<ShortAttemptsApp>
{
    [Fact]
    public async Task AnUnscannedWhatsAppAttemptExpiresAsCreationFailWithItsAccountGone()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;

        app.OutliveAttempts();
        var status = await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", accountId);

        Assert.Equal((false, false, false, "CREATION_FAIL"),
            (status.GetProperty("completed").GetBoolean(), status.GetProperty("in_progress").GetBoolean(),
             status.GetProperty("is_connected").GetBoolean(), status.GetProperty("sync_status").GetString()));
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the expired attempt's account was not deleted");
    }

    [Fact]
    public async Task AnExpiredTelegramAttemptShowsTheFailedStateFalseFalseEvenWithNobodyPolling()
    {
        var workspace = await app.NewWorkspaceAsync();
        var accountId = (await ChannelsApp.ConnectAsync(workspace.Client, "telegram")).GetProperty("account_id").GetString()!;

        // nobody polls: the expiry job alone ends the attempt and deletes the account
        app.OutliveAttempts();
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the expiry job did not run", seconds: 5);
        var status = await ChannelsApp.StatusAsync(workspace.Client, "telegram", accountId);

        Assert.Equal((false, false, "CREATION_FAIL"),
            (status.GetProperty("completed").GetBoolean(), status.GetProperty("in_progress").GetBoolean(), status.GetProperty("sync_status").GetString()));
    }

    [Fact]
    public async Task APendingInstagramVerificationExpiresLikeAQrAndIsCleanedUp()
    {
        var workspace = await app.NewWorkspaceAsync();
        var username = $"ig_{Guid.NewGuid():N}"[..16];
        await app.EmulatorAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password = "pw", checkpoints = new[] { "OTP" }, code = "123456" });
        var connect = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/connect", new { username, password = "pw" }, TestContext.Current.CancellationToken);
        var accountId = (await connect.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;

        app.OutliveAttempts();
        await ChannelsApp.WaitUntilAsync(async () => !(await app.EmulatorAccountIdsAsync()).Contains(accountId), "the expiry job did not delete the account", seconds: 5);
        var solve = await workspace.Client.PostAsJsonAsync("/api/v1/channels/instagram/2fa", new { account_id = accountId, code = "123456" }, TestContext.Current.CancellationToken);

        await solve.AssertErrorAsync(422, "This verification has expired. Connect Instagram again to get a new code.");
        Assert.Equal("CREATION_FAIL", (await (await workspace.Client.GetAsync("/api/v1/channels/instagram/status", TestContext.Current.CancellationToken)).BodyAsync())
            .GetProperty("data").GetProperty("sync_status").GetString());
    }

    [Fact]
    public async Task AfterAFailedAttemptConnectStartsAfresh()
    {
        var workspace = await app.NewWorkspaceAsync();
        var first = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        app.OutliveAttempts();
        await ChannelsApp.StatusAsync(workspace.Client, "whatsapp", first);

        var second = (await ChannelsApp.ConnectAsync(workspace.Client, "whatsapp")).GetProperty("account_id").GetString()!;
        await app.ScanAsync(second);

        Assert.NotEqual(first, second);
        Assert.True((await ChannelsApp.PollStatusAsync(workspace.Client, "whatsapp", second, s => s.GetProperty("completed").GetBoolean())).GetProperty("is_connected").GetBoolean());
    }
}
