using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Unipile;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.MultiNode;

/// <summary>
/// Two real service processes on one PostgreSQL and one Redis, against one emulator: every single-node
/// guarantee must hold across them. Runs in the PostgreSQL pass (SKYLIGHT_TEST_POSTGRES and SKYLIGHT_TEST_REDIS).
/// </summary>
public sealed class MultiNodeTests : IAsyncLifetime
{
    private const string Secret = "multi-node-webhook-secret";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TestDatabase _database = TestDatabase.New();
    private readonly EmulatorServer _emulator = new();
    private readonly int _portA = ServiceProcess.FreePort();
    private readonly int _portB = ServiceProcess.FreePort();
    private readonly string _redisPrefix = $"multinode-{Guid.NewGuid():N}:";
    private ServiceProcess? _nodeA;
    private ServiceProcess? _nodeB;

    public async ValueTask InitializeAsync()
    {
        if (!TestDatabase.IsPostgres || Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REDIS") is not { Length: > 0 })
        {
            return;
        }
        await _emulator.InitializeAsync();
        _nodeA = StartNode(_portA);
        await _nodeA.WaitReadyAsync(_portA);   // migrates first; the second node then finds the schema
        _nodeB = StartNode(_portB);
        await _nodeB.WaitReadyAsync(_portB);
    }

    [Fact]
    public async Task TwoNodesOnOneDatabaseBehaveAsOne()
    {
        Assert.SkipUnless(_nodeA is not null, "needs PostgreSQL and Redis: run the suite with SKYLIGHT_TEST_POSTGRES and SKYLIGHT_TEST_REDIS (see README)");
        var observations = new List<string>();
        using var a = Client(_portA);
        using var b = Client(_portB);

        // one webhook at Unipile although both nodes registered at start
        await ChannelsApp.WaitUntilAsync(async () => (await _emulator.ControlAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("items").GetArrayLength() > 0, "no webhook registered");
        await Task.Delay(500, Ct);
        var webhooks = (await _emulator.ControlAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("items").GetArrayLength();
        observations.Add($"webhooks registered by two nodes: {webhooks}");
        Assert.Equal(1, webhooks);

        // connect on A; Unipile's webhook goes to B; status polled on A and on B
        var first = await NewKeyAsync();
        var accountId = (await ConnectAsync(a, first, "whatsapp")).GetProperty("account_id").GetString()!;
        await _emulator.ScanAsync(accountId, new { phone_number = "966501234567" });
        var onA = await PollCompletedAsync(a, first, accountId);
        var onB = await PollCompletedAsync(b, first, accountId);
        Assert.Equal(("+966501234567", "+966501234567"), (onA.GetProperty("username").GetString(), onB.GetProperty("username").GetString()));
        Assert.Contains(await _emulator.DeliveriesAsync(), d => d.GetProperty("account_id").GetString() == accountId && d.GetProperty("request_url").GetString()!.Contains($":{_portB}/", StringComparison.Ordinal));

        // simultaneous connects for the same workspace and type, split across the nodes
        var keys = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            keys.Add(await NewKeyAsync());
        }
        var answers = await Task.WhenAll(keys.SelectMany(key => new[] { ConnectAsync(a, key, "telegram"), ConnectAsync(b, key, "telegram") }));
        // either both callers got the one attempt (the database's unique index made the later one yield), or the
        // later connect replaced the earlier attempt as documented: then the surviving attempt is one of the two
        var sameAttempt = keys.Select((_, i) => answers[2 * i].GetProperty("account_id").GetString() == answers[(2 * i) + 1].GetProperty("account_id").GetString()).Count(same => same);
        observations.Add($"workspaces with two simultaneous connects (one per node): {keys.Count}; both callers got the same attempt in {sameAttempt}, " +
            $"the later connect replaced the earlier in {keys.Count - sameAttempt}");
        await using (var db = _database.Open())
        {
            var pendingPerWorkspace = await db.ConnectAttempts.IgnoreQueryFilters().Where(x => x.State == "pending" && x.ChannelType == "telegram")
                .GroupBy(x => x.WorkspaceId).Select(g => g.Count()).ToListAsync(Ct);
            observations.Add($"pending telegram attempts per workspace: [{string.Join(", ", pendingPerWorkspace)}]");
            Assert.Equal(keys.Count, pendingPerWorkspace.Count);
            Assert.All(pendingPerWorkspace, count => Assert.Equal(1, count));
        }
        var surviving = await PendingAccountsAsync(keys);
        Assert.All(keys.Select((_, i) => (answers[2 * i].GetProperty("account_id").GetString(), answers[(2 * i) + 1].GetProperty("account_id").GetString())),
            pair => Assert.True(surviving.Contains(pair.Item1!) || surviving.Contains(pair.Item2!), "neither answer is the surviving attempt"));

        // a node dies (SIGKILL) while it holds remote deletions; the other one finishes them
        var doomed = await PendingAccountsAsync(keys.Take(3));
        await _emulator.FaultAsync(new { method = "DELETE", path = "/api/v1/accounts/*", delay_ms = 5000, count = 3 });
        foreach (var key in keys.Take(3))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await Send(a, key, HttpMethod.Post, "/api/v1/channels/telegram/disconnect")).StatusCode);
        }
        await Task.Delay(1000, Ct);   // A has claimed them and waits on Unipile
        _nodeA!.Kill();
        await ChannelsApp.WaitUntilAsync(async () => !(await _emulator.ControlAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray()
            .Any(x => doomed.Contains(x.GetProperty("id").GetString()!)), "node B did not finish the deletions node A held", seconds: 30);
        var deleteCalls = await DeleteCallsAsync(doomed);
        observations.Add($"deletions held by the killed node: {doomed.Count}; DELETE calls per account at Unipile: [{string.Join(", ", deleteCalls)}] (the killed node's call was cut off)");
        await using (var db = _database.Open())
        {
            Assert.False(await db.RemoteDeletions.AnyAsync(Ct));
        }

        // the rate limit holds across both nodes: 4 requests on B after 3 on A exceed a limit of 6
        var limited = await NewKeyAsync();
        _nodeA = StartNode(_portA);
        await _nodeA.WaitReadyAsync(_portA);
        using var a2 = Client(_portA);
        var codes = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            codes.Add((int)(await Send(a2, limited, HttpMethod.Get, "/api/v1/account")).StatusCode);
        }
        for (var i = 0; i < 4; i++)
        {
            codes.Add((int)(await Send(b, limited, HttpMethod.Get, "/api/v1/account")).StatusCode);
        }
        observations.Add($"limit 6 per minute, 3 requests on A then 4 on B: [{string.Join(", ", codes)}]");
        Assert.Equal([200, 200, 200, 200, 200, 200, 429], codes);

        // connect, status, refresh and two disconnects on one channel at once, split across the nodes (6 calls: the limit)
        var raced = new List<int>();
        foreach (var type in new[] { "whatsapp", "telegram", "instagram" })
        {
            for (var round = 0; round < 4; round++)
            {
                var key = await NewKeyAsync();
                var connected = type == "instagram"
                    ? await Send(a2, key, HttpMethod.Post, "/api/v1/channels/instagram/connect", new { username = $"node_racer_{round}", password = "secret-pass" })
                    : await Send(a2, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect");
                if (type != "instagram" && connected.StatusCode == HttpStatusCode.OK)
                {
                    await _emulator.ScanAsync((await connected.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!,
                        new { phone_number = "966501234567", username = "node_racer" });
                }
                var together = await Task.WhenAll(
                    Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect", type == "instagram" ? new { username = $"node_racer_{round}", password = "secret-pass" } : null),
                    Send(a2, key, HttpMethod.Get, $"/api/v1/channels/{type}/status"),
                    Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/refresh"),
                    Send(a2, key, HttpMethod.Post, $"/api/v1/channels/{type}/disconnect"),
                    Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/disconnect"));
                raced.AddRange([(int)connected.StatusCode, .. together.Select(r => (int)r.StatusCode)]);
            }
        }
        observations.Add($"calls racing on one channel across the nodes: {raced.Count}; answers " +
            string.Join(", ", raced.GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));
        Assert.DoesNotContain(raced, code => code >= 500);
        await ChannelsApp.WaitUntilAsync(async () => (await _emulator.OrphansAsync(_database)).Length == 0, "the raced channels left accounts behind", seconds: 20);

        // nothing orphaned: every account at Unipile belongs to a channel or a pending attempt
        var orphans = await _emulator.OrphansAsync(_database);
        observations.Add($"orphaned Unipile accounts: {orphans.Length}");
        foreach (var observation in observations)
        {
            TestReport.Line($"multi-node: {observation}");
        }
        Assert.Empty(orphans);
    }

    private ServiceProcess StartNode(int port) => ServiceProcess.Start(_database, "Production",
        "--urls", $"http://127.0.0.1:{port}",
        "--Unipile:BaseUrl", _emulator.BaseAddress.ToString(),
        "--Unipile:ApiKey", EmulatorServer.ApiKey,
        "--Unipile:WebhookSecret", Secret,
        "--SkyLight:PublicBaseUrl", $"http://127.0.0.1:{_portB}",   // Unipile's webhooks all go to node B
        "--Redis:Configuration", Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REDIS")!,
        "--Redis:InstanceName", _redisPrefix,
        "--RateLimiting:PermitLimit", "6",
        "--Channels:JobInterval", "00:00:00.200",
        "--Channels:LeaseDuration", "00:00:03",
        "--Channels:RetryBaseDelay", "00:00:00.200");

    /// <summary>A workspace and its key, written straight to the shared database (no third node).</summary>
    private async Task<string> NewKeyAsync()
    {
        await using var db = _database.Open();
        var (_, key) = await new WorkspaceProvisioning(db, TimeProvider.System).CreateWorkspaceAsync($"Tenant {Guid.NewGuid():N}", "Asia/Riyadh", Ct);
        return key;
    }

    private async Task<List<string>> PendingAccountsAsync(IEnumerable<string> keys)
    {
        await using var db = _database.Open();
        var hashes = keys.Select(ApiKey.HashOf).ToList();
        var workspaces = await db.ApiKeys.Where(k => hashes.Contains(k.Hash)).Select(k => k.WorkspaceId).ToListAsync(Ct);
        return await db.ConnectAttempts.IgnoreQueryFilters().Where(x => workspaces.Contains(x.WorkspaceId) && x.State == "pending")
            .Select(x => x.UnipileAccountId).ToListAsync(Ct);
    }

    private async Task<int[]> DeleteCallsAsync(List<string> accounts)
    {
        var requests = (await _emulator.ControlAsync(HttpMethod.Get, "/_emulator/requests")).EnumerateArray().ToList();
        return [.. accounts.Select(id => requests.Count(r => r.GetProperty("method").GetString() == "DELETE" && r.GetProperty("path").GetString() == $"/api/v1/accounts/{id}"))];
    }

    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    private static async Task<HttpResponseMessage> Send(HttpClient client, string key, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Headers = { { "X-Api-Key", key } },
            Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body),
        };
        return await client.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> ConnectAsync(HttpClient client, string key, string type)
    {
        var response = await Send(client, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data");
    }

    private static async Task<JsonElement> PollCompletedAsync(HttpClient client, string key, string accountId)
    {
        JsonElement status = default;
        await ChannelsApp.WaitUntilAsync(async () =>
            (status = (await (await Send(client, key, HttpMethod.Get, $"/api/v1/channels/whatsapp/status?account_id={accountId}")).BodyAsync())
                .GetProperty("data")).GetProperty("completed").GetBoolean(), "never completed");
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in new[] { _nodeA, _nodeB })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }
        await _emulator.DisposeAsync();
        await _database.DropAsync();
    }
}
