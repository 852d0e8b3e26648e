using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Unipile;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests.Crash;

/// <summary>
/// The real service binary SIGKILLed again and again while clients connect, scan, create campaigns and disconnect,
/// and restarted on the same database each time; some creates are answered only after the client gave up. Whatever
/// was acknowledged must survive, and no account may stay at Unipile that nothing here records.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private const string Secret = "crash-test-webhook-secret";
    private const int Workspaces = 6;
    private const int Kills = 4;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TestDatabase _database = TestDatabase.New();
    private readonly EmulatorServer _emulator = new();
    private readonly int _port = ServiceProcess.FreePort();
    private ServiceProcess? _service;

    public async ValueTask InitializeAsync()
    {
        await _emulator.InitializeAsync();
        _service = await StartAsync();
    }

    [Fact]
    public async Task ASigkilledServiceLosesNothingItAcknowledgedAndLeavesNoAccountBehind()
    {
        var random = new Random(20261201);
        var keys = new List<string>();
        await using (var db = _database.Open())
        {
            for (var i = 0; i < Workspaces; i++)
            {
                keys.Add((await new WorkspaceProvisioning(db, TimeProvider.System).CreateWorkspaceAsync($"Crash {i}", "Asia/Riyadh", Ct)).ApiKey);
            }
        }
        var ledger = new Ledger();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(20) };

        for (var kill = 0; kill < Kills; kill++)
        {
            // two creates per round are carried out by Unipile but answered after the service stopped waiting
            await _emulator.FaultAsync(new { method = "POST", path = "/api/v1/accounts", answer_delay_ms = 2500, count = 2 });
            using var load = new CancellationTokenSource();
            var clients = keys.Select(key => Task.Run(() => ClientAsync(http, key, ledger, load.Token), CancellationToken.None)).ToArray();
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(2500, 4500)), Ct);   // the chaos schedule, from the seed
            _service!.Kill();
            await load.CancelAsync();
            await Task.WhenAll(clients);
            await _service.DisposeAsync();
            _service = await StartAsync();
        }
        await _emulator.ControlAsync(HttpMethod.Delete, "/_emulator/faults");

        // once queued deletions and interrupted creates are settled, every Unipile account is one the service holds
        string[] orphans = [];
        await ChannelsApp.WaitUntilAsync(async () => (orphans = await _emulator.OrphansAsync(_database)).Length == 0 && await SettledAsync(),
            "interrupted work was never settled", seconds: 60);
        await using var check = _database.Open();
        var attempts = (await check.ConnectAttempts.IgnoreQueryFilters().Select(a => a.UnipileAccountId).ToListAsync(Ct)).ToHashSet();
        var campaigns = (await check.Campaigns.IgnoreQueryFilters().Select(c => c.Id).ToListAsync(Ct)).ToHashSet();
        var atUnipile = (await _emulator.AccountIdsAsync()).ToHashSet();
        // a connect is owed until its workspace acknowledges a disconnect: then its attempt goes with the channel
        var (owed, disconnected) = ledger.Settle();
        var lostConnects = owed.Count(id => !attempts.Contains(id));
        var lostCampaigns = ledger.Campaigns.Count(id => !campaigns.Contains(id));
        var undeleted = disconnected.Count(atUnipile.Contains);
        TestReport.Line($"crash ({_database.Provider}): {Kills} SIGKILLs under load from {Workspaces} workspaces; {ledger.Requests} requests, " +
            $"{ledger.TransportErrors} cut off by a kill, {ledger.GatewayTimeouts} connects answered 504 while Unipile made the account");
        TestReport.Line($"crash ({_database.Provider}): acknowledged connects {ledger.Connects}, of them still owed {owed.Count}, lost {lostConnects}; " +
            $"campaigns {ledger.Campaigns.Count}, lost {lostCampaigns}; disconnects {ledger.Disconnects}, their accounts {disconnected.Count}, " +
            $"still at Unipile {undeleted}; orphaned accounts {orphans.Length}");
        Assert.True(ledger.Connects > 0 && ledger.Disconnects > 0 && !ledger.Campaigns.IsEmpty, "the load never got through");
        Assert.Equal((0, 0, 0, 0), (lostConnects, lostCampaigns, undeleted, orphans.Length));
        Assert.Equal(0, ledger.ServerErrors);   // a 504 is the one server-side answer this load may get
    }

    /// <summary>One integrator's loop until the service dies: connect, scan, poll, a campaign, disconnect.</summary>
    private async Task ClientAsync(HttpClient http, string key, Ledger ledger, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var connect = await SendAsync(http, key, HttpMethod.Post, "/api/v1/channels/whatsapp/connect", null, ledger, stop);
                if (connect.StatusCode == HttpStatusCode.Conflict)
                {
                    await DisconnectAsync(http, key, ledger, stop);
                    continue;
                }
                if (connect.StatusCode != HttpStatusCode.OK)
                {
                    continue;
                }
                var accountId = (await connect.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString()!;
                ledger.Connected(key, accountId);
                using (await _emulator.Http.PostAsJsonAsync($"/_emulator/accounts/{accountId}/scan", new { phone_number = "966501234567" }, stop))
                {
                }
                var status = await SendAsync(http, key, HttpMethod.Get, $"/api/v1/channels/whatsapp/status?account_id={accountId}", null, ledger, stop);
                if (status.StatusCode == HttpStatusCode.OK)
                {
                    var channelId = (await status.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32();
                    var campaign = await SendAsync(http, key, HttpMethod.Post, "/api/v1/campaigns", new { name = "Crash test", channel_id = channelId }, ledger, stop);
                    if (campaign.StatusCode == HttpStatusCode.Created)
                    {
                        ledger.Campaigns.Add((await campaign.BodyAsync()).GetProperty("data").GetProperty("id").GetInt32());
                    }
                }
                await DisconnectAsync(http, key, ledger, stop);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                ledger.CountTransportError();   // the service died under this request: nothing was acknowledged
            }
            catch (TaskCanceledException) when (stop.IsCancellationRequested)
            {
                ledger.CountTransportError();   // in flight when the service was killed
            }
        }
    }

    private static async Task DisconnectAsync(HttpClient http, string key, Ledger ledger, CancellationToken stop)
    {
        HttpResponseMessage disconnect;
        try
        {
            disconnect = await SendAsync(http, key, HttpMethod.Post, "/api/v1/channels/whatsapp/disconnect", null, ledger, stop);
        }
        catch
        {
            ledger.Unanswered(key);   // the kill came first: it may have been carried out, or not
            throw;
        }
        if (disconnect.StatusCode == HttpStatusCode.NoContent)
        {
            ledger.Disconnected(key);
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string key, HttpMethod method, string path, object? body, Ledger ledger,
        CancellationToken stop)
    {
        using var request = new HttpRequestMessage(method, path) { Headers = { { "X-Api-Key", key } }, Content = body is null ? null : JsonContent.Create(body) };
        var response = await http.SendAsync(request, stop);
        ledger.Count(response.StatusCode);
        return response;
    }

    private async Task<ServiceProcess> StartAsync()
    {
        var service = ServiceProcess.Start(_database, "Production",
            "--urls", $"http://127.0.0.1:{_port}",
            "--Unipile:BaseUrl", _emulator.BaseAddress.ToString(),
            "--Unipile:ApiKey", EmulatorServer.ApiKey,
            "--Unipile:WebhookSecret", Secret,
            "--Unipile:RequestTimeout", "00:00:02",
            "--Unipile:RetryDelay", "00:00:00.050",
            "--Unipile:DeleteUnrecordedAccounts", "true",   // the emulator serves this test alone
            "--SkyLight:PublicBaseUrl", $"http://127.0.0.1:{_port}",
            "--RateLimiting:PermitLimit", "100000",
            "--Channels:JobInterval", "00:00:00.200",
            "--Channels:LeaseDuration", "00:00:02",
            "--Channels:RetryBaseDelay", "00:00:00.200");
        await service.WaitReadyAsync(_port);
        return service;
    }

    private async Task<bool> SettledAsync()
    {
        await using var db = _database.Open();
        return !await db.RemoteDeletions.AnyAsync(Ct) && !await db.AccountCreations.AnyAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
        await _emulator.DisposeAsync();
        await _database.DropAsync();
    }

    /// <summary>What the clients were told: only an acknowledged change counts as a promise.</summary>
    private sealed class Ledger
    {
        private readonly Lock _sync = new();
        private readonly Dictionary<string, List<string>> _owed = [];
        private readonly List<string> _disconnected = [];
        private int _requests;
        private int _transportErrors;
        private int _gatewayTimeouts;
        private int _serverErrors;

        public ConcurrentBag<int> Campaigns { get; } = [];
        public int Connects { get; private set; }
        public int Disconnects { get; private set; }
        public int Requests => _requests;
        public int TransportErrors => _transportErrors;
        public int GatewayTimeouts => _gatewayTimeouts;
        public int ServerErrors => _serverErrors;

        public void Connected(string workspace, string accountId)
        {
            lock (_sync)
            {
                Connects++;
                (_owed.TryGetValue(workspace, out var list) ? list : _owed[workspace] = []).Add(accountId);
            }
        }

        /// <summary>Every account the workspace connected so far must now go from Unipile.</summary>
        public void Disconnected(string workspace)
        {
            lock (_sync)
            {
                Disconnects++;
                if (_owed.Remove(workspace, out var accounts))
                {
                    _disconnected.AddRange(accounts);
                }
            }
        }

        /// <summary>A disconnect the kill cut off: what the workspace connected before it is neither owed nor promised gone.</summary>
        public void Unanswered(string workspace)
        {
            lock (_sync)
            {
                _owed.Remove(workspace);
            }
        }

        /// <summary>The connects still owed (their attempts must exist), and the accounts acknowledged disconnects must have deleted.</summary>
        public (List<string> Owed, List<string> Disconnected) Settle()
        {
            lock (_sync)
            {
                return ([.. _owed.Values.SelectMany(accounts => accounts)], [.. _disconnected]);
            }
        }

        public void Count(HttpStatusCode status)
        {
            Interlocked.Increment(ref _requests);
            if (status == HttpStatusCode.GatewayTimeout)
            {
                Interlocked.Increment(ref _gatewayTimeouts);
            }
            else if ((int)status >= 500)
            {
                Interlocked.Increment(ref _serverErrors);
            }
        }

        public void CountTransportError() => Interlocked.Increment(ref _transportErrors);
    }
}
