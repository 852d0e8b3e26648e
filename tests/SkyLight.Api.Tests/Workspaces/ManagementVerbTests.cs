using System.Net;
using System.Text.Json;

namespace SkyLight.Api.Tests.Workspaces;

/// <summary>The verbs run as the README runs them: the service binary with arguments, on a real database file.</summary>
public sealed class ManagementVerbTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.New();
    private SkyLightApp? _api;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The HTTP API over the same database file the verbs wrote.</summary>
    private SkyLightApp Api => _api ??= new SkyLightApp { Database = _database };

    [Fact]
    public async Task WorkspacesCreatePrintsOneJsonLineWithAWorkingKey()
    {
        var (exit, stdout, _) = await ServiceProcess.RunVerbAsync(_database, "workspaces", "create", "--name", "Acme", "--timezone", "Europe/London");

        Assert.Equal(0, exit);
        var line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var created = JsonDocument.Parse(line);
        Assert.Equal(["workspace_id", "api_key"], created.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Matches("^sk_live_[0-9A-Za-z]{40}$", created.RootElement.GetProperty("api_key").GetString());

        var account = (await (await Api.ClientWithKey(created.RootElement.GetProperty("api_key").GetString()!)
            .GetAsync("/api/v1/account", Ct)).BodyAsync()).GetProperty("data");
        Assert.Equal(created.RootElement.GetProperty("workspace_id").GetInt32(), account.GetProperty("id").GetInt32());
        Assert.Equal("Acme", account.GetProperty("name").GetString());
        Assert.Equal("Europe/London", account.GetProperty("timezone").GetString());
    }

    [Fact]
    public async Task TheTimeZoneDefaultsToRiyadh()
    {
        var (_, stdout, _) = await ServiceProcess.RunVerbAsync(_database, "workspaces", "create", "--name", "Acme");
        var key = JsonDocument.Parse(stdout).RootElement.GetProperty("api_key").GetString()!;

        var account = (await (await Api.ClientWithKey(key).GetAsync("/api/v1/account", Ct)).BodyAsync()).GetProperty("data");

        Assert.Equal("Asia/Riyadh", account.GetProperty("timezone").GetString());
    }

    [Fact]
    public async Task KeysCreateAddsAKeyAndKeysRevokeKillsOnlyThatKey()
    {
        var (_, created, _) = await ServiceProcess.RunVerbAsync(_database, "workspaces", "create", "--name", "Acme");
        var workspace = JsonDocument.Parse(created).RootElement;
        var first = workspace.GetProperty("api_key").GetString()!;

        var (exit, second, _) = await ServiceProcess.RunVerbAsync(_database, "keys", "create", "--workspace", workspace.GetProperty("workspace_id").ToString());
        Assert.Equal(0, exit);
        var secondKey = JsonDocument.Parse(second).RootElement.GetProperty("api_key").GetString()!;
        Assert.NotEqual(first, secondKey);

        var (revokeExit, revoked, _) = await ServiceProcess.RunVerbAsync(_database, "keys", "revoke", "--prefix", first[..16]);
        Assert.Equal(0, revokeExit);
        Assert.Equal(first[..16], JsonDocument.Parse(revoked).RootElement.GetProperty("revoked").GetString());

        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.ClientWithKey(first).GetAsync("/api/v1/account", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.ClientWithKey(secondKey).GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task WorkspacesDeactivateTurnsItsKeysInto403()
    {
        var (_, created, _) = await ServiceProcess.RunVerbAsync(_database, "workspaces", "create", "--name", "Acme");
        var workspace = JsonDocument.Parse(created).RootElement;

        var (exit, stdout, _) = await ServiceProcess.RunVerbAsync(_database, "workspaces", "deactivate", "--id", workspace.GetProperty("workspace_id").ToString());

        Assert.Equal(0, exit);
        Assert.False(JsonDocument.Parse(stdout).RootElement.GetProperty("active").GetBoolean());
        var response = await Api.ClientWithKey(workspace.GetProperty("api_key").GetString()!).GetAsync("/api/v1/account", Ct);
        await response.AssertErrorAsync(403, "This workspace is inactive.");
    }

    [Theory]
    [InlineData("workspaces")]
    [InlineData("workspaces", "create")]
    [InlineData("workspaces", "create", "--name")]
    [InlineData("workspaces", "create", "--name", "Acme", "--timezone", "Mars/Olympus_Mons")]
    [InlineData("workspaces", "create", "--name", "Acme", "--timezone", "Asia")]   // zoneinfo directories and files, not zones
    [InlineData("workspaces", "create", "--name", "Acme", "--timezone", "Etc")]
    [InlineData("workspaces", "create", "--name", "Acme", "--timezone", "localtime")]
    [InlineData("workspaces", "create", "--name", "Acme", "--timezone", "posixrules")]
    [InlineData("workspaces", "create", "--name", "Acme", "--colour", "blue")]
    [InlineData("workspaces", "deactivate", "--id", "one")]
    [InlineData("keys", "create", "--workspace", "-3")]
    [InlineData("keys", "revoke", "--prefix", "sk_live_")]
    [InlineData("keys", "rotate")]
    [InlineData("frobnicate")]
    public async Task BadArgumentsPrintUsageToStderrAndExit2(params string[] args)
    {
        var (exit, stdout, stderr) = await ServiceProcess.RunVerbAsync(_database, args);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("Usage:", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keys", "create", "--workspace", "999")]
    [InlineData("workspaces", "deactivate", "--id", "999")]
    [InlineData("keys", "revoke", "--prefix", "sk_live_NoSuchKey")]
    public async Task VerbsOnThingsThatDoNotExistFailWithExit1(params string[] args)
    {
        var (exit, stdout, stderr) = await ServiceProcess.RunVerbAsync(_database, args);

        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains(stderr.Split('\n'), line => line.StartsWith("error: ", StringComparison.Ordinal));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
        await _database.DropAsync();
    }
}
