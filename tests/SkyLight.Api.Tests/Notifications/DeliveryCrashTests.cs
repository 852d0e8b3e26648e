using System.Net;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Unipile;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>
/// Two service processes on one PostgreSQL database: node A is SIGKILLed while receivers hold its deliveries open, and
/// node B, started afterwards, must deliver every one of them with the same delivery id once A's leases lapse.
/// </summary>
public sealed class DeliveryCrashTests : IAsyncLifetime
{
    private const string Secret = "delivery-crash-webhook-secret";
    private const int Workspaces = 4;
    private const int TestEventsPerWorkspace = 3;
    private const int Held = 8;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TestDatabase _database = TestDatabase.New();
    private readonly EmulatorServer _emulator = new();
    private readonly int _portA = ServiceProcess.FreePort();
    private readonly int _portB = ServiceProcess.FreePort();
    private WebhookReceiver? _receiver;
    private ServiceProcess? _nodeA;
    private ServiceProcess? _nodeB;

    public async ValueTask InitializeAsync()
    {
        if (!TestDatabase.IsPostgres)
        {
            return;
        }
        await _emulator.InitializeAsync();
        _receiver = await WebhookReceiver.StartAsync();
        _nodeA = await StartAsync(_portA);
    }

    [Fact]
    public async Task DeliveriesOfAKilledNodeAreMadeByTheOtherWithTheSameDeliveryIds()
    {
        Assert.SkipUnless(TestDatabase.IsPostgres, "several nodes share PostgreSQL only: run the suite with SKYLIGHT_TEST_POSTGRES (see README)");
        var route = _receiver!.NewRoute();
        route.Answer([.. Enumerable.Repeat(ReceiverAnswer.Hang, Held)]);   // node A's first deliveries stay open until it dies
        using var nodeA = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_portA}") };
        for (var i = 0; i < Workspaces; i++)
        {
            string key;
            await using (var db = _database.Open())
            {
                key = (await new WorkspaceProvisioning(db, TimeProvider.System).CreateWorkspaceAsync($"Crash {i}", "Asia/Riyadh", Ct)).ApiKey;
            }
            nodeA.DefaultRequestHeaders.Remove("X-Api-Key");
            nodeA.DefaultRequestHeaders.Add("X-Api-Key", key);
            var endpoint = await WebhookApi.CreateAsync(nodeA, route.Url);
            foreach (var type in new[] { "whatsapp", "telegram" })
            {
                Assert.Equal(HttpStatusCode.OK, (await nodeA.PostAsync($"/api/v1/channels/{type}/connect", null, Ct)).StatusCode);   // channel.connect_started
            }
            for (var test = 0; test < TestEventsPerWorkspace; test++)
            {
                await WebhookApi.TestAsync(nodeA, endpoint.Id);
            }
        }
        const int expected = Workspaces * (2 + TestEventsPerWorkspace);
        await route.WaitForAsync(Held, "node A never sent the deliveries it holds");   // the rest may wait behind them (4 per endpoint)

        _nodeA!.Kill();
        _nodeB = await StartAsync(_portB);
        await ChannelsApp.WaitUntilAsync(async () => await DeliveredAsync() == expected, "node B never delivered what node A held", seconds: 60);

        var log = route.Log;
        var ids = await DeliveryIdsAsync();
        var acknowledged = log.Where(e => !e.Answer.Hangs).GroupBy(e => e.Delivery.DeliveryId).ToDictionary(g => g.Key, g => g.Count());
        var held = log.Where(e => e.Answer.Hangs).Select(e => e.Delivery.DeliveryId).ToList();
        var lost = ids.Count(id => !acknowledged.ContainsKey(id));
        var duplicates = log.Count - log.Select(e => e.Delivery.DeliveryId).Distinct().Count();
        TestReport.Line($"webhook crash: {expected} deliveries, {held.Count} held open when node A was killed; requests {log.Count}, " +
            $"lost {lost}, duplicates {duplicates} (redelivered after the kill: {held.Count(acknowledged.ContainsKey)}), acknowledged twice {acknowledged.Count(a => a.Value > 1)}");

        Assert.Equal(expected, ids.Count);
        Assert.Equal(Held, held.Count);
        Assert.Equal(0, lost);
        Assert.All(held, id => Assert.True(acknowledged.ContainsKey(id), $"{id} was never delivered after the kill"));   // same delivery id, by node B
        Assert.All(log, e => Assert.True(e.Delivery.Signature.Length > 0));
        // at least once: a receiver may also see a delivery twice that it acknowledged just as node A died, before A recorded it
        Assert.Equal(Enumerable.Repeat(1, expected), await AttemptsPerDeliveryAsync());   // node A finished none of the held ones
    }

    private async Task<int> DeliveredAsync()
    {
        await using var db = _database.Open();
        return await db.WebhookDeliveries.IgnoreQueryFilters().CountAsync(d => d.DeliveredAt != null, Ct);
    }

    private async Task<List<int>> AttemptsPerDeliveryAsync()
    {
        await using var db = _database.Open();
        return await db.WebhookDeliveries.IgnoreQueryFilters().Select(d => d.AttemptLog.Count).ToListAsync(Ct);
    }

    private async Task<List<string>> DeliveryIdsAsync()
    {
        await using var db = _database.Open();
        return [.. (await db.WebhookDeliveries.IgnoreQueryFilters().Select(d => d.DeliveryId).ToListAsync(Ct)).Select(id => id.ToString())];
    }

    private async Task<ServiceProcess> StartAsync(int port)
    {
        // Development: receivers on loopback speak http (outside Development endpoints must be https)
        var node = ServiceProcess.Start(_database, "Development",
            "--urls", $"http://127.0.0.1:{port}",
            "--Unipile:BaseUrl", _emulator.BaseAddress.ToString(),
            "--Unipile:ApiKey", EmulatorServer.ApiKey,
            "--Unipile:WebhookSecret", Secret,
            "--SkyLight:PublicBaseUrl", $"http://127.0.0.1:{port}",
            "--RateLimiting:PermitLimit", "100000",
            "--Channels:JobInterval", "00:00:00.200",
            "--Channels:LeaseDuration", "00:00:01",
            "--Webhooks:Timeout", "00:00:10",   // far longer than the test takes to kill node A: it dies mid-delivery
            "--Webhooks:AllowPrivateTargets", "true");
        await node.WaitReadyAsync(port);
        return node;
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
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
        await _emulator.DisposeAsync();
        await _database.DropAsync();
    }
}
