using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Channels;

/// <summary>
/// The service and its embedded emulator on the real clock, with background jobs ticking fast. On dispose it
/// checks the promise that matters most: the emulator holds no account the service does not know about.
/// </summary>
public class ChannelsApp : SkyLightApp
{
    private HttpClient? _emulator;

    public ChannelsApp()
    {
        Settings["Channels:JobInterval"] = "00:00:00.200";
        Settings["Channels:RetryBaseDelay"] = "00:00:00.100";
        Settings["Unipile:RequestTimeout"] = "00:00:02";
        Settings["Unipile:RetryDelay"] = "00:00:00.020";
        // tests poll every 50 ms while they wait: the per-key limit (tested on its own) must not answer for Unipile
        Settings["RateLimiting:PermitLimit"] = "100000";
        // the SDK's login watch holds a stream while it runs, and a closed stream's slot comes back only once the server
        // notices the close: the cap (tested on its own) must not answer for that either
        Settings["Streams:MaxConnectionsPerKey"] = "1000";
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected override bool UsesFakeClock => false;

    /// <summary>The embedded emulator: Unipile's routes need X-API-KEY, /_emulator routes nothing.</summary>
    public HttpClient Emulator
    {
        get
        {
            StartServer();   // the emulator is the service's own: it runs once the service does
            return _emulator ??= new HttpClient { BaseAddress = EmulatorUrl, DefaultRequestHeaders = { { "X-API-KEY", "emulator-key" } } };
        }
    }

    public string WebhookSecret => Services.GetRequiredService<IOptions<UnipileOptions>>().Value.WebhookSecret;

    public async Task<JsonElement> EmulatorAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await Emulator.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(Ct);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>No faults, webhooks delivered: what a test starts from, whatever the one before it scripted.</summary>
    public async Task ResetEmulatorAsync()
    {
        await EmulatorAsync(HttpMethod.Delete, "/_emulator/faults");
        await EmulatorAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = true });
    }

    public Task ScanAsync(string accountId, object? body = null) =>
        EmulatorAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/scan", body ?? new { phone_number = "966501234567" });

    public async Task<string[]> EmulatorAccountIdsAsync() =>
        [.. (await EmulatorAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];

    public async Task<int> UnipileCallsAsync(string method, string path) =>
        (await EmulatorAsync(HttpMethod.Get, "/_emulator/requests")).EnumerateArray()
            .Count(r => r.GetProperty("method").GetString() == method && r.GetProperty("path").GetString() == path);

    /// <summary>POST /channels/{type}/connect; returns the data of a 200.</summary>
    public static async Task<JsonElement> ConnectAsync(HttpClient client, string type)
    {
        var response = await client.PostAsync($"/api/v1/channels/{type}/connect", null, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data");
    }

    public static async Task<JsonElement> StatusAsync(HttpClient client, string type, string? accountId = null)
    {
        var response = await client.GetAsync($"/api/v1/channels/{type}/status" + (accountId is null ? "" : $"?account_id={accountId}"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data");
    }

    /// <summary>Polls status the way an integrator does, until the condition holds (or fails after 10 s).</summary>
    public static async Task<JsonElement> PollStatusAsync(HttpClient client, string type, string? accountId, Func<JsonElement, bool> until)
    {
        JsonElement status = default;
        try
        {
            await WaitUntilAsync(async () => until(status = await StatusAsync(client, type, accountId)), $"{type} status never matched");
        }
        catch (Xunit.Sdk.FailException)
        {
            Assert.Fail($"{type} status never matched; the last was {status}");
        }
        return status;
    }

    /// <summary>
    /// A connected channel of the type, the way an integrator gets one: through the SDK's connect-and-watch, with
    /// the scan played at the emulator when the QR appears. Returns its id and account id.
    /// </summary>
    public async Task<(int ChannelId, string AccountId)> ConnectedChannelAsync(HttpClient client, string type, object? scan = null)
    {
        // the client already sends the workspace's key
        var sdk = new SkyLightClient(client, new SkyLightClientOptions { PollInterval = TimeSpan.FromMilliseconds(50) });
        await foreach (var update in (type == "whatsapp" ? sdk.WhatsApp : sdk.Telegram).ConnectAndWatchAsync(Ct))
        {
            if (update.Status is null)
            {
                await ScanAsync(update.Connection.AccountId, scan);
            }
            else if (update.IsFinal)
            {
                if (!update.Status.Completed)
                {
                    var journal = await sdk.Channels.GetEventsAsync(new ChannelEventQuery { After = 0, PerPage = 100 }, Ct);
                    Assert.Fail($"the {type} login did not complete: {update.Status}; its journal: {string.Join("; ", journal.Items)}");
                }
                return (update.Status.Id, update.Connection.AccountId);
            }
        }
        throw new InvalidOperationException("The watch ended without a final update.");
    }

    /// <summary>
    /// Waits until the emulator has delivered <paramref name="count"/> webhooks for the account and the service has
    /// processed its inbox, so a test's next change cannot be overtaken by an earlier webhook.
    /// </summary>
    public async Task WebhooksSettledAsync(string accountId, int count)
    {
        await WaitUntilAsync(async () => (await EmulatorAsync(HttpMethod.Get, "/_emulator/webhook-deliveries")).EnumerateArray()
            .Count(d => d.GetProperty("account_id").GetString() == accountId && d.GetProperty("response_status").ValueKind == JsonValueKind.Number) >= count,
            $"{count} webhooks for {accountId} were never delivered");
        await InboxDrainedAsync();
    }

    /// <summary>Waits until every stored webhook is applied (or set aside).</summary>
    public async Task InboxDrainedAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await WaitUntilAsync(async () => !await db.WebhookInbox.AnyAsync(i => i.SetAsideAt == null), "the webhook inbox never drained");
    }

    /// <summary>Waits until every queued Unipile deletion is done (or set aside).</summary>
    public async Task DeletionsDoneAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await WaitUntilAsync(async () => !await db.RemoteDeletions.AnyAsync(d => d.SetAsideAt == null), "queued Unipile deletions never ran");
    }

    public async Task<HttpResponseMessage> PostWebhookAsync(string body, string? secret, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/unipile") { Content = new StringContent(body, System.Text.Encoding.UTF8, contentType) };
        if (secret is not null)
        {
            request.Headers.Add("Unipile-Auth", secret);
        }
        return await CreateClient().SendAsync(request, Ct);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string because, double seconds = 10)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(seconds * TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                Assert.Fail(because);
            }
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>
    /// Accounts at the emulator that no channel or pending attempt holds, once queued deletions have run: a
    /// deletion still queued (Unipile kept failing) counts as an orphan here, not as known.
    /// </summary>
    public async Task<string[]> OrphanedAccountsAsync()
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        for (var round = 0; round < 50 && await db.RemoteDeletions.AnyAsync(); round++)
        {
            await Services.GetRequiredService<RemoteDeletionProcessor>().RunOnceAsync(CancellationToken.None);
            await Task.Delay(100);
        }
        var held = await HeldAccountsAsync(db);
        return [.. (await EmulatorAccountIdsAsync()).Where(id => !held.Contains(id))];
    }

    /// <summary>The Unipile accounts the service holds: its channels' and its pending attempts'.</summary>
    internal static async Task<HashSet<string>> HeldAccountsAsync(SkyLightDb db)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        held.UnionWith(await db.Channels.IgnoreQueryFilters().Where(c => c.UnipileAccountId != null).Select(c => c.UnipileAccountId!).ToListAsync());
        held.UnionWith(await db.ConnectAttempts.IgnoreQueryFilters().Where(a => a.State == "pending").Select(a => a.UnipileAccountId).ToListAsync());
        return held;
    }

    public override async ValueTask DisposeAsync()
    {
        string[] orphans = [];
        if (_emulator is not null)
        {
            orphans = await OrphanedAccountsAsync();
            _emulator.Dispose();
        }
        await base.DisposeAsync();
        Assert.True(orphans.Length == 0, $"the emulator holds accounts the service does not know about: {string.Join(", ", orphans)}");
        GC.SuppressFinalize(this);
    }
}
