using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Tenancy;

public sealed class SecretStorageTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheDatabaseHoldsOnlyTheHashOfAKeyNeverTheKey()
    {
        var workspace = await app.NewWorkspaceAsync();
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode);

        var stored = await app.Database.ReadEverythingStoredAsync();

        Assert.DoesNotContain(workspace.ApiKey, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(workspace.ApiKey["sk_live_".Length..], stored, StringComparison.Ordinal);
        Assert.Contains(workspace.ApiKey[..16], stored, StringComparison.Ordinal);   // the display prefix, by design
        await using var scope = app.Services.CreateAsyncScope();
        var hash = ApiKey.HashOf(workspace.ApiKey);
        Assert.True(await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ApiKeys.IgnoreQueryFilters().AnyAsync(k => k.Hash == hash, Ct));
    }

    [Fact]
    public async Task KeysNeverReachTheLogsWhetherAcceptedOrRejected()
    {
        var workspace = await app.NewWorkspaceAsync();
        const string RejectedKey = "sk_live_RejectedKeyThatMustNotBeLoggedAnywhere00000";
        await workspace.Client.GetAsync("/api/v1/account", Ct);
        await app.ClientWithBearer(workspace.ApiKey).GetAsync("/api/v1/no-such-route", Ct);
        await app.ClientWithKey(RejectedKey).GetAsync("/api/v1/account", Ct);

        Assert.NotEmpty(app.Logs.Lines);
        Assert.DoesNotContain(workspace.ApiKey["sk_live_".Length..], app.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain("RejectedKeyThatMustNotBeLogged", app.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public void IssuedKeysHaveTheDocumentedShape()
    {
        var (key, secret) = ApiKey.Issue(SkyLightApp.Start);

        Assert.Matches("^sk_live_[0-9A-Za-z]{40}$", secret);
        Assert.Equal(secret[..16], key.Prefix);
        Assert.Equal(32, key.Hash.Length);
        Assert.NotEqual(secret, ApiKey.Issue(SkyLightApp.Start).Secret);
    }
}
