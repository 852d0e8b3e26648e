using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;

namespace SkyLight.Api.Tests.Channels;

/// <summary>Short logins and a frequent health pass, so a fault storm's aftermath settles within a test.</summary>
public sealed class FaultStormApp : ChannelsApp
{
    public FaultStormApp()
    {
        Settings["Channels:AttemptLifetime"] = "00:00:03";
        Settings["Channels:HealthInterval"] = "00:00:02";
        Settings["Channels:StatusPollInterval"] = "00:00:00.300";
    }
}

/// <summary>
/// Faults on every Unipile route (5xx, 429, answers past the client's timeout, odd content types) while many
/// workspaces connect, scan, let logins expire, refresh, change status and disconnect. During the storm the only
/// server errors are 502/503/504; once it passes and background work settles, every channel shows what Unipile
/// says and no account is left at Unipile that nothing here records.
/// </summary>
public sealed class FaultTests(FaultStormApp app) : IClassFixture<FaultStormApp>
{
    private const int Workspaces = 8;
    private static readonly TimeSpan Storm = TimeSpan.FromSeconds(8);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly object[] Faults =
    [
        new { method = "POST", path = "/api/v1/accounts", status = 500 },
        new { method = "POST", path = "/api/v1/accounts", status = 503, count = 2 },
        new { method = "POST", path = "/api/v1/accounts", status = 429 },
        new { method = "POST", path = "/api/v1/accounts", answer_delay_ms = 2500 },   // made, but answered after the timeout
        new { method = "POST", path = "/api/v1/accounts", content_type = "text/html" },
        new { method = "GET", path = "/api/v1/accounts/*", status = 503, count = 4 },
        new { method = "GET", path = "/api/v1/accounts/*", status = 429, count = 4 },
        new { method = "GET", path = "/api/v1/accounts/*", delay_ms = 2500 },
        new { method = "GET", path = "/api/v1/accounts/*", status = 502, body = "<html>proxy error</html>", count = 4 },
        new { method = "DELETE", path = "/api/v1/accounts/*", status = 500, count = 3 },
        new { method = "DELETE", path = "/api/v1/accounts/*", answer_delay_ms = 2500 },
        new { method = "GET", path = "/api/v1/accounts", status = 503, count = 2 },
    ];

    [Fact]
    public async Task AfterAFaultStormEveryStatusIsUnipilesAndNoAccountIsOrphaned()
    {
        var random = new Random(20261202);
        var workspaces = new List<TestWorkspace>();
        for (var i = 0; i < Workspaces; i++)
        {
            workspaces.Add(await app.NewWorkspaceAsync());
        }
        var answers = new ConcurrentQueue<(string Call, int Status)>();
        using var storm = new CancellationTokenSource(Storm);
        var chaos = Task.Run(() => ChaosAsync(new Random(random.Next()), storm.Token), CancellationToken.None);
        var clients = workspaces.Select((w, i) => Task.Run(() => ClientAsync(w, i % 2 == 0 ? "whatsapp" : "telegram", new Random(random.Next()), answers, storm.Token),
            CancellationToken.None)).ToList();
        await Task.WhenAll([chaos, .. clients]);
        await app.EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");

        // settled: deletions done, interrupted creates reconciled, webhooks applied, every status read again
        string mismatch = "";
        await ChannelsApp.WaitUntilAsync(async () => (mismatch = await StatusMismatchAsync()).Length == 0 && await SettledAsync(),
            $"the storm never settled: {mismatch}", seconds: 60);
        var orphans = await app.OrphanedAccountsAsync();
        var serverErrors = answers.Where(a => a.Status >= 500).GroupBy(a => a.Status).ToDictionary(g => g.Key, g => g.Count());
        TestReport.Line($"fault storm: {answers.Count} calls from {Workspaces} workspaces in {Storm.TotalSeconds:0} s of Unipile faults; answers " +
            string.Join(", ", answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")) + $"; orphaned accounts afterwards {orphans.Length}");
        Assert.All(serverErrors.Keys, status => Assert.True(status is 502 or 503 or 504, $"a call answered {status}: " +
            string.Join("; ", answers.Where(a => a.Status == status).Select(a => a.Call).Distinct().Take(5))));
        Assert.Empty(orphans);
    }

    private async Task ChaosAsync(Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await app.EmulatorAsync(HttpMethod.Post, "/_emulator/faults", Faults[random.Next(Faults.Length)]);
            try
            {
                await Task.Delay(random.Next(300, 900), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>An integrator: connect, maybe scan (or let it expire), poll, refresh, a status change at Unipile, maybe disconnect.</summary>
    private async Task ClientAsync(TestWorkspace workspace, string type, Random random, ConcurrentQueue<(string, int)> answers, CancellationToken stop)
    {
        async Task<HttpResponseMessage> Call(HttpMethod method, string path)
        {
            using var request = new HttpRequestMessage(method, path);
            var response = await workspace.Client.SendAsync(request, CancellationToken.None);
            answers.Enqueue(($"{method} {path.Split('?')[0]}", (int)response.StatusCode));
            return response;
        }

        while (!stop.IsCancellationRequested)
        {
            var connect = await Call(HttpMethod.Post, $"/api/v1/channels/{type}/connect");
            var accountId = connect.StatusCode == HttpStatusCode.OK ? (await connect.BodyAsync()).GetProperty("data").GetProperty("account_id").GetString() : null;
            if (accountId is not null && random.Next(3) > 0)
            {
                using var scan = await app.Emulator.PostAsync($"/_emulator/accounts/{accountId}/scan",
                    new StringContent("""{"phone_number": "966501234567", "username": "storm"}""", System.Text.Encoding.UTF8, "application/json"), CancellationToken.None);
            }
            for (var poll = 0; poll < 3; poll++)
            {
                await Call(HttpMethod.Get, $"/api/v1/channels/{type}/status" + (accountId is null ? "" : $"?account_id={accountId}"));
            }
            await Call(HttpMethod.Post, $"/api/v1/channels/{type}/refresh");
            if (accountId is not null && random.Next(4) == 0)
            {
                var status = new[] { "CREDENTIALS", "OK", "STOPPED", "CONNECTING" }[random.Next(4)];
                using var change = await app.Emulator.PostAsync($"/_emulator/accounts/{accountId}/status",
                    new StringContent($$"""{"status": "{{status}}", "notify": {{(random.Next(2) == 0 ? "true" : "false")}}}""", System.Text.Encoding.UTF8, "application/json"),
                    CancellationToken.None);
            }
            if (random.Next(2) == 0)
            {
                await Call(HttpMethod.Post, $"/api/v1/channels/{type}/disconnect");
            }
        }
    }

    /// <summary>Channels whose sync_status differs from their Unipile account's status; empty when all agree.</summary>
    private async Task<string> StatusMismatchAsync()
    {
        var atUnipile = (await app.EmulatorAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray()
            .ToDictionary(a => a.GetProperty("id").GetString()!, a => a.GetProperty("status").GetString());
        await using var scope = app.Services.CreateAsyncScope();
        var channels = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().Channels.IgnoreQueryFilters()
            .Where(c => c.UnipileAccountId != null).Select(c => new { c.UnipileAccountId, c.SyncStatus }).ToListAsync(Ct);
        return string.Join(", ", channels
            .Where(c => atUnipile.TryGetValue(c.UnipileAccountId!, out var status) ? Normal(c.SyncStatus) != status : c.SyncStatus != "ERROR")
            .Select(c => $"{c.UnipileAccountId}: {c.SyncStatus} here, {(atUnipile.TryGetValue(c.UnipileAccountId!, out var s) ? s : "gone")} at Unipile"));
    }

    private static string Normal(string status) => status == "SYNC_SUCCESS" ? "OK" : status;

    private async Task<bool> SettledAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        return !await db.RemoteDeletions.AnyAsync(Ct) && !await db.AccountCreations.AnyAsync(Ct) &&
            !await db.WebhookInbox.AnyAsync(i => i.SetAsideAt == null, Ct);
    }
}
