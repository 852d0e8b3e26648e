using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Tenancy;

public sealed class AuthenticationTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private const string Unauthenticated = "Unauthenticated. Please provide a valid API key.";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KeyInXApiKeyHeaderIsAccepted()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await app.ClientWithKey(workspace.ApiKey).GetAsync("/api/v1/account", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(workspace.Id, (await response.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task KeyAsBearerTokenIsAccepted()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await app.ClientWithBearer(workspace.ApiKey).GetAsync("/api/v1/account", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(workspace.Id, (await response.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task MissingKeyIs401WithTheEnvelope()
    {
        var response = await app.CreateClient().GetAsync("/api/v1/account", Ct);

        await response.AssertErrorAsync(401, Unauthenticated);
    }

    [Fact]
    public async Task WrongKeyIs401()
    {
        var workspace = await app.NewWorkspaceAsync();
        var wrong = workspace.ApiKey[..^1] + (workspace.ApiKey[^1] == 'a' ? 'b' : 'a');

        await (await app.ClientWithKey(wrong).GetAsync("/api/v1/account", Ct)).AssertErrorAsync(401, Unauthenticated);
        await (await app.ClientWithBearer("not-a-key").GetAsync("/api/v1/account", Ct)).AssertErrorAsync(401, Unauthenticated);
    }

    [Fact]
    public async Task RevokedKeyIs401AndTheWorkspacesOtherKeysStillWork()
    {
        var workspace = await app.NewWorkspaceAsync();
        string second;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var provisioning = scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>();
            second = (await provisioning.CreateKeyAsync(workspace.Id, Ct))!;
            var outcome = await provisioning.RevokeKeyAsync(workspace.ApiKey[..16], Ct);
            Assert.Equal(workspace.ApiKey[..16], outcome.RevokedPrefix);
        }

        await (await app.ClientWithKey(workspace.ApiKey).GetAsync("/api/v1/account", Ct)).AssertErrorAsync(401, Unauthenticated);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(second).GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task InactiveWorkspaceIs403()
    {
        var workspace = await app.NewWorkspaceAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>().DeactivateAsync(workspace.Id, Ct));
        }

        var response = await workspace.Client.GetAsync("/api/v1/account", Ct);

        await response.AssertErrorAsync(403, "This workspace is inactive.");
    }

    [Fact]
    public async Task OneWorkspacesKeyShowsOnlyThatWorkspace()
    {
        var riyadh = await app.NewWorkspaceAsync();
        var london = await app.NewWorkspaceAsync("Europe/London");

        var seenByLondon = (await (await london.Client.GetAsync("/api/v1/account", Ct)).BodyAsync()).GetProperty("data");

        Assert.Equal(london.Id, seenByLondon.GetProperty("id").GetInt32());
        Assert.NotEqual(riyadh.Id, seenByLondon.GetProperty("id").GetInt32());
    }
}
