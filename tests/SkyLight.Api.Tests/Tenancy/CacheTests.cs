using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Tenancy;

/// <summary>A node's caches of keys and channels: its own writes show at once, anyone else's within Cache:MaxAge, and they stay bounded.</summary>
public sealed class CacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnknownKeysThroughTheServiceAreRefusedAndRememberedWithinTheirBound()
    {
        await using var app = new SkyLightApp { Settings = { ["Cache:UnknownKeys"] = "100" } };
        var known = await app.NewWorkspaceAsync();
        using var client = app.CreateClient();

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 500; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/account") { Headers = { { "X-Api-Key", $"sk_live_{Guid.NewGuid():N}{i:D8}" } } };
            answers.Add((await client.SendAsync(request, Ct)).StatusCode);
        }

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.InRange(app.Services.GetRequiredService<ApiKeyCache>().Count, 0, 100 + (100 / 16) + 1);
        Assert.Equal(HttpStatusCode.OK, (await known.Client.GetAsync("/api/v1/account", Ct)).StatusCode);   // the known key was not pushed out
    }

    [Fact]
    public async Task ANodeSeesItsOwnRevocationAndDeactivationOnTheNextRequest()
    {
        await using var app = new SkyLightApp();
        var revoked = await app.NewWorkspaceAsync();
        var deactivated = await app.NewWorkspaceAsync();
        Assert.Equal(HttpStatusCode.OK, (await revoked.Client.GetAsync("/api/v1/account", Ct)).StatusCode);   // both cached now
        Assert.Equal(HttpStatusCode.OK, (await deactivated.Client.GetAsync("/api/v1/account", Ct)).StatusCode);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var provisioning = scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>();
            await provisioning.RevokeKeyAsync(revoked.ApiKey, Ct);
            await provisioning.DeactivateAsync(deactivated.Id, Ct);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await deactivated.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task AChangeThisNodeWasNotToldOfShowsOnceTheCacheMaxAgeHasPassed()
    {
        await using var app = new SkyLightApp();
        var workspace = await app.NewWorkspaceAsync();
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode);

        // another node (or a management verb) deactivates the workspace: this node hears nothing of it
        await using (var db = app.Database.Open())
        {
            await new WorkspaceProvisioning(db, app.Time).DeactivateAsync(workspace.Id, Ct);
        }
        var withinTheBound = (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode;
        app.Time.Advance(TimeSpan.FromSeconds(1));
        var afterIt = (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode;

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden), (withinTheBound, afterIt));
    }
}

/// <summary>Alone: the managed heap it measures is the whole process's, which other tests would move.</summary>
[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements;

[Collection(nameof(MemoryMeasurements))]
public sealed class CacheMemoryTests
{
    [Fact]
    public void AMillionDistinctUnknownKeysLeaveTheCacheWithinItsBoundAndItsMemoryFlat()
    {
        const int Capacity = 10_000;
        var cache = new FreshCache<Guid, bool>(TimeProvider.System, TimeSpan.FromSeconds(1), Capacity);
        var largest = 0;
        long settled = 0;
        for (var i = 0; i < 1_000_000; i++)
        {
            var key = Guid.NewGuid();
            cache.Store(key, true, cache.BeforeRead(key));
            if (i % 100 == 0)
            {
                largest = Math.Max(largest, cache.Count);   // sampled: counting takes all the dictionary's locks
            }
            if (i == 100_000)
            {
                settled = GC.GetTotalMemory(forceFullCollection: true);
            }
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);

        TestReport.Line($"caches: 1,000,000 distinct unknown keys, capacity {Capacity:N0}: largest count {largest:N0}, " +
            $"managed memory after 100,000 {settled / 1e6:F1} MB, after 1,000,000 {after / 1e6:F1} MB");
        Assert.True(largest <= Capacity + cache.CheckEvery, $"the cache grew to {largest}");
        Assert.True(after - settled < 8_000_000, $"memory grew by {(after - settled) / 1e6:F1} MB");
    }
}
