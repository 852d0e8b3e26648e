using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Tests.Unipile;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.MultiNode;

/// <summary>
/// Two real service processes (A and B) on one PostgreSQL database and one Redis, against one emulator, plus a third
/// node in-process (<see cref="Observer"/>) whose internals a test can watch. Exists in the PostgreSQL pass only
/// (SKYLIGHT_TEST_POSTGRES and SKYLIGHT_TEST_REDIS); elsewhere <see cref="Available"/> is false.
/// </summary>
public sealed class TwoNodes : IAsyncLifetime
{
    public const string Secret = "multi-node-webhook-secret";

    /// <summary>Requests per key and minute: low enough for the rate-limit test, high enough for a test that polls a bound.</summary>
    public const int PermitLimit = 100;

    private readonly string _redisPrefix = $"multinode-{Guid.NewGuid():N}:";

    public TestDatabase Database { get; } = TestDatabase.New();
    public EmulatorServer Emulator { get; } = new();
    public int PortA { get; } = ServiceProcess.FreePort();
    public int PortB { get; } = ServiceProcess.FreePort();
    internal ServiceProcess? NodeA { get; private set; }
    internal ServiceProcess? NodeB { get; private set; }

    /// <summary>A third node, in this process, on the same database and emulator.</summary>
    public ObserverNode? Observer { get; private set; }

    public static bool Available => TestDatabase.IsPostgres && Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REDIS") is { Length: > 0 };

    public const string SkipReason = "needs PostgreSQL and Redis: run the suite with SKYLIGHT_TEST_POSTGRES and SKYLIGHT_TEST_REDIS (see README)";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        if (!Available)
        {
            return;
        }
        await Emulator.InitializeAsync();
        NodeA = StartNode(PortA);
        await NodeA.WaitReadyAsync(PortA);   // migrates first; the other nodes then find the schema
        NodeB = StartNode(PortB);
        await NodeB.WaitReadyAsync(PortB);
        Observer = new ObserverNode(Database, Emulator.BaseAddress, PortB);
        Observer.StartServer();
    }

    /// <summary>Starts node A again after a test killed it.</summary>
    internal async Task RestartNodeAAsync()
    {
        if (NodeA is not null)
        {
            await NodeA.DisposeAsync();
        }
        NodeA = StartNode(PortA);
        await NodeA.WaitReadyAsync(PortA);
    }

    private ServiceProcess StartNode(int port) => ServiceProcess.Start(Database, "Production",
        "--urls", $"http://127.0.0.1:{port}",
        "--Unipile:BaseUrl", Emulator.BaseAddress.ToString(),
        "--Unipile:ApiKey", EmulatorServer.ApiKey,
        "--Unipile:WebhookSecret", Secret,
        "--SkyLight:PublicBaseUrl", $"http://127.0.0.1:{PortB}",   // Unipile's webhooks all go to node B
        "--Redis:Configuration", Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REDIS")!,
        "--Redis:InstanceName", _redisPrefix,
        "--RateLimiting:PermitLimit", PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--Channels:JobInterval", "00:00:00.200",
        "--Channels:LeaseDuration", "00:00:03",
        "--Channels:RetryBaseDelay", "00:00:00.200");

    /// <summary>A workspace and its key, written straight to the shared database (no extra node).</summary>
    public async Task<string> NewKeyAsync()
    {
        await using var db = Database.Open();
        var (_, key) = await new WorkspaceProvisioning(db, TimeProvider.System).CreateWorkspaceAsync($"Tenant {Guid.NewGuid():N}", "Asia/Riyadh", Ct);
        return key;
    }

    public async Task<List<string>> PendingAccountsAsync(IEnumerable<string> keys)
    {
        await using var db = Database.Open();
        var hashes = keys.Select(ApiKey.HashOf).ToList();
        var workspaces = await db.ApiKeys.Where(k => hashes.Contains(k.Hash)).Select(k => k.WorkspaceId).ToListAsync(Ct);
        return await db.ConnectAttempts.IgnoreQueryFilters().Where(x => workspaces.Contains(x.WorkspaceId) && x.State == "pending")
            .Select(x => x.UnipileAccountId).ToListAsync(Ct);
    }

    public static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    public static async Task<HttpResponseMessage> Send(HttpClient client, string key, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Headers = { { "X-Api-Key", key } },
            Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body),
        };
        return await client.SendAsync(request, Ct);
    }

    public static async Task<JsonElement> ConnectAsync(HttpClient client, string key, string type)
    {
        var response = await Send(client, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in new[] { NodeA, NodeB })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }
        if (Observer is not null)
        {
            await Observer.DisposeAsync();   // drops the shared database last
        }
        await Emulator.DisposeAsync();
        await Database.DropAsync();
    }
}

/// <summary>A node of the cluster in this process: real clock, the shared database and emulator, webhooks to node B.</summary>
public sealed class ObserverNode : SkyLightApp
{
    public ObserverNode(TestDatabase database, Uri emulator, int webhookPort)
    {
        Database = database;
        Environment = "Production";
        Settings["Unipile:BaseUrl"] = emulator.ToString();
        Settings["Unipile:ApiKey"] = EmulatorServer.ApiKey;
        Settings["Unipile:WebhookSecret"] = TwoNodes.Secret;
        Settings["SkyLight:PublicBaseUrl"] = $"http://127.0.0.1:{webhookPort}";
        Settings["Channels:JobInterval"] = "00:00:00.200";
    }

    protected override bool UsesFakeClock => false;
}
