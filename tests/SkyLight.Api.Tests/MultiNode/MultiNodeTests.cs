using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.MultiNode;

/// <summary>
/// Several nodes on one PostgreSQL and one Redis, against one emulator: every single-node guarantee must hold across
/// them, and a change committed on one node reaches the others. Runs in the PostgreSQL pass.
/// </summary>
public sealed partial class MultiNodeTests(TwoNodes nodes) : IClassFixture<TwoNodes>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BothNodesRegisterOneWebhookAtUnipile()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);

        await ChannelsApp.WaitUntilAsync(async () => await WebhookCountAsync() > 0, "no webhook registered");
        var webhooks = await WebhookCountAsync();
        var registrations = (await nodes.Emulator.ControlAsync(HttpMethod.Get, "/_emulator/requests")).EnumerateArray()
            .Count(r => r.GetProperty("method").GetString() == "POST" && r.GetProperty("path").GetString() == "/api/v1/webhooks");

        TestReport.Line($"multi-node: webhooks registered by three nodes: {webhooks}, registration calls: {registrations}");
        Assert.Equal((1, 1), (webhooks, registrations));
    }

    [Fact]
    public async Task ALoginStartedOnOneNodeCompletesOnBoth()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);

        var key = await nodes.NewKeyAsync();
        var accountId = (await TwoNodes.ConnectAsync(a, key, "whatsapp")).GetProperty("account_id").GetString()!;
        await nodes.Emulator.ScanAsync(accountId, new { phone_number = "966501234567" });
        var onA = await PollCompletedAsync(a, key, accountId);
        var onB = await PollCompletedAsync(b, key, accountId);

        Assert.Equal(("+966501234567", "+966501234567"), (onA.GetProperty("username").GetString(), onB.GetProperty("username").GetString()));
        Assert.Contains(await nodes.Emulator.DeliveriesAsync(), d => d.GetProperty("account_id").GetString() == accountId &&
            d.GetProperty("request_url").GetString()!.Contains($":{nodes.PortB}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SimultaneousConnectsOnTwoNodesEndWithOnePendingAttempt()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var keys = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            keys.Add(await nodes.NewKeyAsync());
        }

        var answers = await Task.WhenAll(keys.SelectMany(key => new[] { TwoNodes.ConnectAsync(a, key, "telegram"), TwoNodes.ConnectAsync(b, key, "telegram") }));

        // either both callers got the one attempt (the database's unique index made the later one yield), or the
        // later connect replaced the earlier attempt as documented: then the surviving attempt is one of the two
        var sameAttempt = keys.Select((_, i) => answers[2 * i].GetProperty("account_id").GetString() == answers[(2 * i) + 1].GetProperty("account_id").GetString()).Count(same => same);
        TestReport.Line($"multi-node: workspaces with two simultaneous connects (one per node): {keys.Count}; both callers got the same attempt in " +
            $"{sameAttempt}, the later connect replaced the earlier in {keys.Count - sameAttempt}");
        await using (var db = nodes.Database.Open())
        {
            var hashes = keys.Select(SkyLight.Api.Workspaces.ApiKey.HashOf).ToList();
            var workspaces = await db.ApiKeys.Where(k => hashes.Contains(k.Hash)).Select(k => k.WorkspaceId).ToListAsync(Ct);
            var pendingPerWorkspace = await db.ConnectAttempts.IgnoreQueryFilters().Where(x => workspaces.Contains(x.WorkspaceId) && x.State == "pending")
                .GroupBy(x => x.WorkspaceId).Select(g => g.Count()).ToListAsync(Ct);
            Assert.Equal(keys.Count, pendingPerWorkspace.Count);
            Assert.All(pendingPerWorkspace, count => Assert.Equal(1, count));
        }
        var surviving = await nodes.PendingAccountsAsync(keys);
        Assert.All(keys.Select((_, i) => (answers[2 * i].GetProperty("account_id").GetString(), answers[(2 * i) + 1].GetProperty("account_id").GetString())),
            pair => Assert.True(surviving.Contains(pair.Item1!) || surviving.Contains(pair.Item2!), "neither answer is the surviving attempt"));
        await DisconnectAllAsync(a, keys, "telegram");
    }

    [Fact]
    public async Task DeletionsHeldByAKilledNodeAreFinishedByAnother()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        var keys = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            keys.Add(await nodes.NewKeyAsync());
            await TwoNodes.ConnectAsync(a, keys[^1], "telegram");
        }
        var doomed = await nodes.PendingAccountsAsync(keys);

        await nodes.Emulator.FaultAsync(new { method = "DELETE", path = "/api/v1/accounts/*", delay_ms = 5000, count = 3 });
        await DisconnectAllAsync(a, keys, "telegram");
        await ChannelsApp.WaitUntilAsync(async () => await DeleteCallsAsync(doomed) is var calls && calls.All(c => c >= 1),
            "node A never called Unipile to delete");   // A holds them now, and waits on Unipile
        nodes.NodeA!.Kill();
        await ChannelsApp.WaitUntilAsync(async () => !(await nodes.Emulator.AccountIdsAsync()).Any(doomed.Contains),
            "no other node finished the deletions node A held", seconds: 30);
        var deleteCalls = await DeleteCallsAsync(doomed);
        await nodes.RestartNodeAAsync();

        TestReport.Line($"multi-node: deletions held by the killed node: {doomed.Count}; DELETE calls per account at Unipile: " +
            $"[{string.Join(", ", deleteCalls)}] (the killed node's call was cut off)");
        await using var db = nodes.Database.Open();
        Assert.False(await db.RemoteDeletions.AnyAsync(d => doomed.Contains(d.UnipileAccountId), Ct));
    }

    [Fact]
    public async Task TheRateLimitHoldsAcrossNodes()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var limited = await nodes.NewKeyAsync();

        var codes = new List<int>();
        for (var i = 0; i < TwoNodes.PermitLimit / 2; i++)
        {
            codes.Add((int)(await TwoNodes.Send(a, limited, HttpMethod.Get, "/api/v1/account")).StatusCode);
        }
        for (var i = 0; i <= TwoNodes.PermitLimit / 2; i++)
        {
            codes.Add((int)(await TwoNodes.Send(b, limited, HttpMethod.Get, "/api/v1/account")).StatusCode);
        }

        TestReport.Line($"multi-node: limit {TwoNodes.PermitLimit} per minute, {TwoNodes.PermitLimit / 2} requests on A then {TwoNodes.PermitLimit / 2 + 1} on B: " +
            string.Join(", ", codes.CountBy(c => c).Select(c => $"{c.Key}×{c.Value}")));
        Assert.Equal([.. Enumerable.Repeat(200, TwoNodes.PermitLimit), 429], codes);
    }

    [Fact]
    public async Task ChannelsRacedAcrossNodesAnswerNo5xxAndOrphanNothing()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);

        // connect, status, refresh and two disconnects on one channel at once, split across the nodes (6 calls: the limit)
        var raced = new List<int>();
        foreach (var type in new[] { "whatsapp", "telegram", "instagram" })
        {
            for (var round = 0; round < 4; round++)
            {
                var key = await nodes.NewKeyAsync();
                var connected = type == "instagram"
                    ? await TwoNodes.Send(a, key, HttpMethod.Post, "/api/v1/channels/instagram/connect", new { username = $"node_racer_{round}", password = "secret-pass" })
                    : await TwoNodes.Send(a, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect");
                if (type != "instagram" && connected.StatusCode == HttpStatusCode.OK)
                {
                    await nodes.Emulator.ScanAsync((await connected.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!,
                        new { phone_number = "966501234567", username = "node_racer" });
                }
                var together = await Task.WhenAll(
                    TwoNodes.Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/connect", type == "instagram" ? new { username = $"node_racer_{round}", password = "secret-pass" } : null),
                    TwoNodes.Send(a, key, HttpMethod.Get, $"/api/v1/channels/{type}/status"),
                    TwoNodes.Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/refresh"),
                    TwoNodes.Send(a, key, HttpMethod.Post, $"/api/v1/channels/{type}/disconnect"),
                    TwoNodes.Send(b, key, HttpMethod.Post, $"/api/v1/channels/{type}/disconnect"));
                raced.AddRange([(int)connected.StatusCode, .. together.Select(r => (int)r.StatusCode)]);
            }
        }
        await ChannelsApp.WaitUntilAsync(async () => (await nodes.Emulator.OrphansAsync(nodes.Database)).Length == 0, "the raced channels left accounts behind", seconds: 20);
        var orphans = await nodes.Emulator.OrphansAsync(nodes.Database);

        TestReport.Line($"multi-node: calls racing on one channel across the nodes: {raced.Count}; answers " +
            string.Join(", ", raced.GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")) + $"; orphaned Unipile accounts: {orphans.Length}");
        Assert.DoesNotContain(raced, code => code >= 500);
        Assert.Empty(orphans);
    }

    [Fact]
    public async Task EventsCommittedOnOneNodeReachASubscriberOnAnotherInOrder()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var subscription = await nodes.Observer!.Services.GetRequiredService<ChannelEventFeed>().SubscribeAsync(Ct);
        var receiver = new FeedReceiver(subscription);

        var produced = await ProduceEventsOnNodeAAsync(a, workspaces: 100);   // connect + disconnect: 200 events
        var received = await receiver.UntilAsync(produced);

        var delays = received.Select(r => (r.ReceivedAt - r.Event.OccurredAt).TotalMilliseconds).Order().ToList();
        TestReport.Line($"multi-node: change feed, commit on node A → subscriber on another node, {delays.Count} events: " +
            $"p50 {Percentile(delays, 0.50):F1} ms, p99 {Percentile(delays, 0.99):F1} ms, max {delays[^1]:F1} ms");
        Assert.Equal(produced.Order(), received.Select(r => r.Event.Id).Where(produced.Contains));
    }

    [Fact]
    public async Task AnEventCommittedOnOneNodeReachesAStreamHeldOnTheOther()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var key = await nodes.NewKeyAsync();
        b.DefaultRequestHeaders.Add("X-Api-Key", key);
        await using var stream = await Channels.ChannelEventStreamTests.OpenAsync(b);

        await TwoNodes.ConnectAsync(a, key, "telegram");
        Assert.Equal(HttpStatusCode.NoContent, (await TwoNodes.Send(a, key, HttpMethod.Post, "/api/v1/channels/telegram/disconnect")).StatusCode);
        var streamed = await Channels.ChannelEventStreamTests.ReadAsync(stream, 2);

        Assert.Equal(["channel.connect_started", "channel.disconnected"], streamed.Select(m => m.Event));
        await using var db = nodes.Database.Open();
        var hash = SkyLight.Api.Workspaces.ApiKey.HashOf(key);
        var workspaceId = await db.ApiKeys.Where(k => k.Hash == hash).Select(k => k.WorkspaceId).SingleAsync(Ct);
        var journal = await db.ChannelEvents.IgnoreQueryFilters().Where(e => e.WorkspaceId == workspaceId).OrderBy(e => e.Id)
            .Select(e => e.Id).ToListAsync(Ct);
        Assert.Equal(journal, streamed.Select(m => long.Parse(m.Id!, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task AConnectPageLoadedFromOneNodeActsThroughTheOtherAndItsStreamSeesIt()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        var key = await nodes.NewKeyAsync();
        using var a = TwoNodes.Client(nodes.PortA);
        var created = await TwoNodes.Send(a, key, HttpMethod.Post, "/api/v1/channels/connect-links", new { type = "telegram", state = "s" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var path = new Uri((await created.BodyAsync()).GetProperty("data").GetProperty("url").GetString()!).AbsolutePath;

        // one browser, its cookie jar shared, behind a balancer that sends the page to A and its requests to B
        var cookies = new CookieContainer();
        using var browserToA = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri($"http://127.0.0.1:{nodes.PortA}") };
        using var browserToB = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri($"http://127.0.0.1:{nodes.PortB}") };
        var html = await browserToA.GetStringAsync(path, Ct);
        var csrf = System.Text.RegularExpressions.Regex.Match(html, """<meta name="csrf-token" content="([^"]+)">""").Groups[1].Value;
        cookies.Add(new Uri($"http://127.0.0.1:{nodes.PortB}"), cookies.GetCookies(new Uri($"http://127.0.0.1:{nodes.PortA}{path}")));
        await using var stream = await Channels.EventStreamReader.OpenAsync(browserToA, path + "/events");
        Assert.Equal("loading", (await stream.NextMessageAsync()).Read<Connect.PageState>().Screen);

        using var start = new HttpRequestMessage(HttpMethod.Post, path + "/qr") { Content = System.Net.Http.Json.JsonContent.Create(new { }) };
        start.Headers.Add("X-CSRF-Token", csrf);
        var started = await browserToB.SendAsync(start, Ct);

        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("qr", (await started.BodyAsync()).GetProperty("screen").GetString());
        Assert.Equal("qr", (await stream.NextMessageAsync(seconds: 15)).Read<Connect.PageState>().Screen);   // the stream on A saw B's login
    }

    [Fact]
    public async Task TwoNodesRacingOneIdempotencyKeyDoTheWorkOnce()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var b = TwoNodes.Client(nodes.PortB);
        var answers = new List<string>();
        var done = new List<int>();
        for (var round = 0; round < 10; round++)
        {
            var key = await nodes.NewKeyAsync();
            async Task<HttpResponseMessage> SendAsync(HttpClient node)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/channels/telegram/connect") { Headers = { { "X-Api-Key", key }, { "Idempotency-Key", "once" } } };
                return await node.SendAsync(request, Ct);
            }
            var responses = await Task.WhenAll(SendAsync(a), SendAsync(b), SendAsync(a), SendAsync(b));
            answers.AddRange(responses.Select(r => $"{(int)r.StatusCode}{(r.Headers.Contains("Idempotent-Replayed") ? " replayed" : "")}"));
            done.Add(responses.Count(r => r.StatusCode == HttpStatusCode.OK && !r.Headers.Contains("Idempotent-Replayed")));
        }

        TestReport.Line($"multi-node: 10 rounds of one Idempotency-Key sent twice to each node at once: {string.Join(", ", answers.GroupBy(x => x).Select(g => $"{g.Key} ×{g.Count()}"))}");
        Assert.All(done, runs => Assert.Equal(1, runs));
        Assert.DoesNotContain(answers, x => x.StartsWith('5'));
    }

    [Fact]
    public async Task KillingTheListenerConnectionLosesNoEvent()
    {
        Assert.SkipUnless(TwoNodes.Available, TwoNodes.SkipReason);
        using var a = TwoNodes.Client(nodes.PortA);
        using var subscription = await nodes.Observer!.Services.GetRequiredService<ChannelEventFeed>().SubscribeAsync(Ct);
        var receiver = new FeedReceiver(subscription);

        var killed = await TerminateListenersAsync();
        var produced = await ProduceEventsOnNodeAAsync(a, workspaces: 25);
        await TerminateListenersAsync();
        produced.AddRange(await ProduceEventsOnNodeAAsync(a, workspaces: 25));
        var received = await receiver.UntilAsync(produced);

        TestReport.Line($"multi-node: listener connections killed twice ({killed} at first) while 100 events committed; received {received.Count(r => produced.Contains(r.Event.Id))}");
        Assert.True(killed >= 1, "no listening connection was found to kill");
        Assert.Equal(produced.Order(), received.Select(r => r.Event.Id).Where(produced.Contains));
    }

    /// <summary>Connects and disconnects a fresh workspace's Telegram on node A; returns the ids of the events that wrote.</summary>
    private async Task<List<long>> ProduceEventsOnNodeAAsync(HttpClient a, int workspaces)
    {
        var keys = new List<string>();
        for (var i = 0; i < workspaces; i++)
        {
            keys.Add(await nodes.NewKeyAsync());
        }
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (key, _) =>
        {
            await TwoNodes.ConnectAsync(a, key, "telegram");
            Assert.Equal(HttpStatusCode.NoContent, (await TwoNodes.Send(a, key, HttpMethod.Post, "/api/v1/channels/telegram/disconnect")).StatusCode);
        });
        await using var db = nodes.Database.Open();
        var hashes = keys.Select(SkyLight.Api.Workspaces.ApiKey.HashOf).ToList();
        var ids = await db.ApiKeys.Where(k => hashes.Contains(k.Hash)).Select(k => k.WorkspaceId).ToListAsync(Ct);
        return await db.ChannelEvents.IgnoreQueryFilters().Where(e => ids.Contains(e.WorkspaceId)).Select(e => e.Id).ToListAsync(Ct);
    }

    /// <summary>Ends every node's LISTEN connection on this database, as a network cut or a restarted PgBouncer would.</summary>
    private async Task<int> TerminateListenersAsync()
    {
        await using var db = nodes.Database.Open();
        return await db.Database.SqlQuery<int>($"""
            SELECT count(*)::int AS "Value" FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = {ChannelEventFeed.ListenerApplicationName} AND datname = current_database()) AS killed
            """).SingleAsync(Ct);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private async Task<int> WebhookCountAsync() =>
        (await nodes.Emulator.ControlAsync(HttpMethod.Get, "/api/v1/webhooks")).GetProperty("items").GetArrayLength();

    private async Task<int[]> DeleteCallsAsync(List<string> accounts)
    {
        var requests = (await nodes.Emulator.ControlAsync(HttpMethod.Get, "/_emulator/requests")).EnumerateArray().ToList();
        return [.. accounts.Select(id => requests.Count(r => r.GetProperty("method").GetString() == "DELETE" && r.GetProperty("path").GetString() == $"/api/v1/accounts/{id}"))];
    }

    private static async Task DisconnectAllAsync(HttpClient node, IEnumerable<string> keys, string type)
    {
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await TwoNodes.Send(node, key, HttpMethod.Post, $"/api/v1/channels/{type}/disconnect")).StatusCode);
        }
    }

    private static async Task<JsonElement> PollCompletedAsync(HttpClient client, string key, string accountId, string type = "whatsapp")
    {
        JsonElement status = default;
        await ChannelsApp.WaitUntilAsync(async () =>
            (status = (await (await TwoNodes.Send(client, key, HttpMethod.Get, $"/api/v1/channels/{type}/status?account_id={accountId}")).BodyAsync())
                .GetProperty("data")).GetProperty("completed").GetBoolean(), "never completed");
        return status;
    }
}

/// <summary>Reads a feed subscription as events arrive, noting when each one did.</summary>
internal sealed class FeedReceiver
{
    private readonly List<(ChannelEvent Event, DateTimeOffset ReceivedAt)> _received = [];
    private readonly Task _reading;

    public FeedReceiver(FeedSubscription subscription) => _reading = ReadAsync(subscription);

    /// <summary>Every event received until all of <paramref name="expected"/> were (within 30 s), in arrival order.</summary>
    public async Task<List<(ChannelEvent Event, DateTimeOffset ReceivedAt)>> UntilAsync(List<long> expected)
    {
        var wanted = expected.ToHashSet();
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult(Snapshot().Count(r => wanted.Contains(r.Event.Id)) == wanted.Count || _reading.IsFaulted),
            "the subscriber did not receive every event", seconds: 30);
        await (_reading.IsFaulted ? _reading : Task.CompletedTask);
        return Snapshot();
    }

    private List<(ChannelEvent Event, DateTimeOffset ReceivedAt)> Snapshot()
    {
        lock (_received)
        {
            return [.. _received];
        }
    }

    private async Task ReadAsync(FeedSubscription subscription)
    {
        await foreach (var next in subscription.Events.ReadAllAsync())
        {
            var at = TimeProvider.System.GetUtcNow();
            lock (_received)
            {
                _received.Add((next, at));
            }
        }
    }
}
