using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.MultiNode;

/// <summary>
/// Keys and channel status are served from each node's memory: a change made elsewhere shows on every node within the
/// caches' bound (Cache:MaxAge, 1 s), and a node's own change at once. The bound is checked by when each poll was
/// sent, not answered (a slow answer says nothing about staleness): no poll sent later than the bound after the change
/// may see the old state.
/// </summary>
public sealed partial class MultiNodeTests
{
    /// <summary>Cache:MaxAge, and a little for the two processes' clocks reading time at different instants.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task AKeyRevokedElsewhereIsRefusedOnEveryNodeWithinTheBoundAndAtOnceOnTheNodeThatRevokedIt()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        var remote = await nodes.NewKeyAsync();
        var local = await nodes.NewKeyAsync();
        await WarmAsync(remote, local);

        var elsewhere = await AfterChangeAsync(p => p.RevokeKeyAsync(remote, Ct), remote, HttpStatusCode.Unauthorized);
        await ChangeOnObserverAsync(p => p.RevokeKeyAsync(local, Ct));
        var onObserver = await Observer(local);

        TestReport.Line($"multi-node: key revoked by another writer, the last poll still accepted was sent after: A {elsewhere.A.TotalMilliseconds:F0} ms, B {elsewhere.B.TotalMilliseconds:F0} ms; " +
            $"on the revoking node: the next request answered {(int)onObserver}");
        Assert.True(elsewhere.A <= Bound && elsewhere.B <= Bound, $"revocation took {elsewhere}");
        Assert.Equal(HttpStatusCode.Unauthorized, onObserver);
    }

    [Fact]
    public async Task AWorkspaceDeactivatedElsewhereIsRefusedOnEveryNodeWithinTheBoundAndAtOnceOnTheNodeThatDidIt()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        var remote = await nodes.NewKeyAsync();
        var local = await nodes.NewKeyAsync();
        await WarmAsync(remote, local);

        var elsewhere = await AfterChangeAsync(async p => await p.DeactivateAsync(await WorkspaceOfAsync(remote), Ct), remote, HttpStatusCode.Forbidden);
        await ChangeOnObserverAsync(async p => await p.DeactivateAsync(await WorkspaceOfAsync(local), Ct));
        var onObserver = await Observer(local);

        TestReport.Line($"multi-node: workspace deactivated by another writer, the last poll still accepted was sent after: A {elsewhere.A.TotalMilliseconds:F0} ms, B {elsewhere.B.TotalMilliseconds:F0} ms; " +
            $"on the deactivating node: the next request answered {(int)onObserver}");
        Assert.True(elsewhere.A <= Bound && elsewhere.B <= Bound, $"deactivation took {elsewhere}");
        Assert.Equal(HttpStatusCode.Forbidden, onObserver);
    }

    [Fact]
    public async Task ADisconnectOnOneNodeAnswers404AtOnceThereAndOnTheOtherWithinTheBound()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var key = await nodes.NewKeyAsync();
        var accountId = (await TwoNodes.ConnectAsync(a, key, "telegram")).GetProperty("account_id").GetString()!;
        await nodes.Emulator.ScanAsync(accountId, new { username = "cached" });
        await PollCompletedAsync(a, key, accountId, "telegram");
        await PollCompletedAsync(b, key, accountId, "telegram");   // both nodes hold the connected channel now

        Assert.Equal(HttpStatusCode.NoContent, (await TwoNodes.Send(a, key, HttpMethod.Post, "/api/v1/channels/telegram/disconnect")).StatusCode);
        var clock = Stopwatch.StartNew();
        var onA = (await TwoNodes.Send(a, key, HttpMethod.Get, "/api/v1/channels/telegram/status")).StatusCode;
        var onB = await UntilAsync(b, key, "/api/v1/channels/telegram/status", HttpStatusCode.NotFound, clock);

        TestReport.Line($"multi-node: disconnect on A: next status on A {(int)onA}; the last status on B still showing the channel was sent after {onB.TotalMilliseconds:F0} ms");
        Assert.Equal(HttpStatusCode.NotFound, onA);
        Assert.True(onB <= Bound, $"node B showed the disconnect after {onB}");
    }

    [Fact]
    public async Task AStatusChangeAppliedByOneNodeShowsOnTheOtherWithinTheBound()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var key = await nodes.NewKeyAsync();
        var accountId = (await TwoNodes.ConnectAsync(a, key, "whatsapp")).GetProperty("account_id").GetString()!;
        await nodes.Emulator.ScanAsync(accountId, new { phone_number = "966501234567" });
        await PollCompletedAsync(a, key, accountId);
        await PollCompletedAsync(b, key, accountId);

        // Unipile's webhooks go to node B, which applies it; node A learns it from the change feed
        await nodes.Emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/status", new { status = "CREDENTIALS" });
        await ChannelsApp.WaitUntilAsync(async () => await SyncStatusAsync(b, key) == "CREDENTIALS", "node B never applied the webhook");
        var clock = Stopwatch.StartNew();
        var onA = await LastStaleAsync(async () => await SyncStatusAsync(a, key) == "CREDENTIALS", clock);

        TestReport.Line($"multi-node: status change applied on B (webhook): the last status on A not showing it was sent after {onA.TotalMilliseconds:F0} ms");
        Assert.True(onA <= Bound, $"node A showed the change after {onA}");
    }

    /// <summary>Every node (A, B and the observer) has the keys in its cache.</summary>
    private async Task WarmAsync(params string[] keys)
    {
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.OK, (await TwoNodes.Send(a, key, HttpMethod.Get, "/api/v1/account")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await TwoNodes.Send(b, key, HttpMethod.Get, "/api/v1/account")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, await Observer(key));
        }
    }

    /// <summary>Makes the change straight in the database (a management verb, another node) and times how long A and B take to show it.</summary>
    private async Task<(TimeSpan A, TimeSpan B)> AfterChangeAsync(Func<WorkspaceProvisioning, Task> change, string key, HttpStatusCode expected)
    {
        await using (var db = nodes.Database.Open())
        {
            await change(new WorkspaceProvisioning(db, TimeProvider.System));
        }
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var clock = Stopwatch.StartNew();
        var onA = UntilAsync(a, key, "/api/v1/account", expected, clock);
        var onB = UntilAsync(b, key, "/api/v1/account", expected, clock);
        return (await onA, await onB);
    }

    /// <summary>Makes the change through the observer node's own services, as its API would.</summary>
    private async Task ChangeOnObserverAsync(Func<WorkspaceProvisioning, Task> change)
    {
        await using var scope = nodes.Observer!.Services.CreateAsyncScope();
        await change(scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>());
    }

    private async Task<HttpStatusCode> Observer(string key)
    {
        using var client = nodes.Observer!.ClientWithKey(key);
        return (await client.GetAsync("/api/v1/account", Ct)).StatusCode;
    }

    private async Task<int> WorkspaceOfAsync(string key)
    {
        await using var db = nodes.Database.Open();
        var hash = ApiKey.HashOf(key);
        return (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.ApiKeys, k => k.Hash == hash, Ct)).WorkspaceId;
    }

    /// <summary>Polls until the answer is <paramref name="expected"/>; returns when the last poll that did not see it was sent.</summary>
    private static Task<TimeSpan> UntilAsync(HttpClient client, string key, string path, HttpStatusCode expected, Stopwatch? clock = null) =>
        LastStaleAsync(async () => (await TwoNodes.Send(client, key, HttpMethod.Get, path)).StatusCode == expected, clock ?? Stopwatch.StartNew());

    /// <summary>Polls (every 50 ms) until <paramref name="fresh"/> holds; returns when the last poll that did not see the change was sent.</summary>
    private static async Task<TimeSpan> LastStaleAsync(Func<Task<bool>> fresh, Stopwatch clock)
    {
        var lastStale = TimeSpan.Zero;
        await ChannelsApp.WaitUntilAsync(async () =>
        {
            var sent = clock.Elapsed;
            if (await fresh())
            {
                return true;
            }
            lastStale = sent;
            return false;
        }, "the change never showed", seconds: 10);
        return lastStale;
    }

    private static async Task<string?> SyncStatusAsync(HttpClient client, string key) =>
        (await (await TwoNodes.Send(client, key, HttpMethod.Get, "/api/v1/channels/whatsapp/status")).BodyAsync()).GetProperty("data").GetProperty("sync_status").GetString();
}
