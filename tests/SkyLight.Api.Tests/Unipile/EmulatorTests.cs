using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SkyLight.Api.Tests.Unipile;

/// <summary>The emulator's own promises: intents, webhooks, and every /_emulator control route.</summary>
public sealed class EmulatorTests(EmulatorServer emulator) : IClassFixture<EmulatorServer>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private WebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        await emulator.ControlAsync(HttpMethod.Post, "/_emulator/reset");
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task AnExpiredQrCannotBeScannedAndTheAccountStaysConnecting()
    {
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/expire");
        var scan = await PostAsync($"/_emulator/accounts/{id}/scan", new { });

        Assert.Equal(HttpStatusCode.Gone, scan.StatusCode);
        Assert.Equal("CONNECTING", (await GetAsync($"/api/v1/accounts/{id}")).GetProperty("sources")[0].GetProperty("status").GetString());
        var listed = (await emulator.ControlAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray().Single(a => a.GetProperty("id").GetString() == id);
        Assert.Equal("expired", listed.GetProperty("intent").GetProperty("state").GetString());
    }

    [Fact]
    public async Task AnExpiredCheckpointAnswers408ThenIsForgottenWith400()
    {
        await emulator.RegisterInstagramUserAsync("expiring", "pw", ["OTP"]);
        var id = (await (await PostAsync("/api/v1/accounts", new { provider = "INSTAGRAM", username = "expiring", password = "pw" })).Content
            .ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("account_id").GetString();
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/expire");

        var first = await PostAsync("/api/v1/accounts/checkpoint", new { provider = "INSTAGRAM", account_id = id, code = "123456" });
        var second = await PostAsync("/api/v1/accounts/checkpoint", new { provider = "INSTAGRAM", account_id = id, code = "123456" });

        await AssertUnipileErrorAsync(first, 408, "errors/request_timeout");
        await AssertUnipileErrorAsync(second, 400, "errors/invalid_request");
    }

    [Fact]
    public async Task IntentsExpireByThemselvesAfterTheConfiguredLifetime()
    {
        await using var quick = new QuickIntentEmulator();
        await quick.InitializeAsync();
        var id = (await (await quick.Http.PostAsJsonAsync("/api/v1/accounts", new { provider = "TELEGRAM" }, Ct)).Content
            .ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("account_id").GetString();

        await Task.Delay(400, Ct);
        var scan = await quick.Http.PostAsJsonAsync($"/_emulator/accounts/{id}/scan", new { }, Ct);

        Assert.Equal(HttpStatusCode.Gone, scan.StatusCode);
    }

    [Fact]
    public async Task ASecondIntentOnAnAccountIsTooEarlyUntilTheFirstEnds()
    {
        var id = await ConnectAsync("WHATSAPP");

        var early = await PostAsync($"/api/v1/accounts/{id}", new { provider = "WHATSAPP" });
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/expire");
        var afterExpiry = await PostAsync($"/api/v1/accounts/{id}", new { provider = "WHATSAPP" });

        await AssertUnipileErrorAsync(early, 425, "errors/auth_in_progress");
        Assert.Equal(HttpStatusCode.Accepted, afterExpiry.StatusCode);
    }

    [Fact]
    public async Task ScanRefusesUnknownAccountsAndAccountsNotWaitingForAScan()
    {
        var id = await ConnectAsync("WHATSAPP");
        await emulator.ScanAsync(id);

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("/_emulator/accounts/nope/scan", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync($"/_emulator/accounts/{id}/scan", new { })).StatusCode);
    }

    [Fact]
    public async Task AWhatsAppScanSendsCreationSuccessThenOkWithOnlyTheRegisteredHeaders()
    {
        await RegisterWebhookAsync(new[] { new { key = "Unipile-Auth", value = "s3cret" } });
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ScanAsync(id, new { phone_number = "966501234567", name = "Acme" });
        var received = await _receiver.WaitForAsync(2);

        Assert.Equal(
            [$$$"""{"AccountStatus":{"account_id":"{{{id}}}","account_type":"WHATSAPP","message":"CREATION_SUCCESS"}}""",
             $$$"""{"AccountStatus":{"account_id":"{{{id}}}","account_type":"WHATSAPP","message":"OK"}}"""],
            received.Select(r => r.Body));
        // exactly the registered headers, beside what HTTP itself needs: no JSON content type unless registered
        Assert.All(received, r => Assert.Equal(["Content-Length", "Host", "Unipile-Auth"], r.Headers.Keys.Order(StringComparer.Ordinal)));
        Assert.All(received, r => Assert.Equal("s3cret", r.Headers["Unipile-Auth"]));
        var account = await GetAsync($"/api/v1/accounts/{id}");
        Assert.Equal(("Acme", "966501234567"), (account.GetProperty("name").GetString(),
            account.GetProperty("connection_params").GetProperty("im").GetProperty("phone_number").GetString()));
    }

    [Fact]
    public async Task ARegisteredContentTypeIsSent()
    {
        await RegisterWebhookAsync(new[] { new { key = "Content-Type", value = "application/json" } });

        await emulator.ScanAsync(await ConnectAsync("WHATSAPP"));

        Assert.StartsWith("application/json", (await _receiver.WaitForAsync(1))[0].Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TelegramConfirmsWithOkOnlyAfterTheConfiguredDelay()
    {
        await RegisterWebhookAsync();
        var id = await ConnectAsync("TELEGRAM");

        await emulator.ScanAsync(id, new { username = "acme_support" });
        var justAfter = (await GetAsync($"/api/v1/accounts/{id}")).GetProperty("sources")[0].GetProperty("status").GetString();
        var received = await _receiver.WaitForAsync(2);

        Assert.Equal("CONNECTING", justAfter);
        Assert.Equal(["CREATION_SUCCESS", "OK"], received.Select(MessageOf));
        Assert.Equal("acme_support", (await GetAsync($"/api/v1/accounts/{id}")).GetProperty("connection_params").GetProperty("im").GetProperty("username").GetString());
    }

    [Fact]
    public async Task AWebhookIsRetriedUntilTheReceiverAnswersExactly200()
    {
        await RegisterWebhookAsync();
        _receiver.AnswerWith(500, 204);
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "CREDENTIALS" });
        await _receiver.WaitForAsync(3);
        await Task.Delay(300, Ct);   // nothing more may come

        var attempts = (await emulator.DeliveriesAsync()).Where(d => d.GetProperty("account_id").GetString() == id).ToList();
        Assert.Equal([(1, 500), (2, 204), (3, 200)], attempts.Select(a => (a.GetProperty("attempt").GetInt32(), a.GetProperty("response_status").GetInt32())));
        Assert.Equal(3, _receiver.Received.Count);
    }

    [Fact]
    public async Task AWebhookIsRetriedFiveTimesThenDropped()
    {
        await RegisterWebhookAsync();
        _receiver.DefaultAnswer = 503;
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "ERROR" });
        await _receiver.WaitForAsync(6);
        await Task.Delay(300, Ct);

        Assert.Equal(6, _receiver.Received.Count);
        Assert.Equal([1, 2, 3, 4, 5, 6], (await emulator.DeliveriesAsync()).Select(d => d.GetProperty("attempt").GetInt32()));
    }

    [Theory]
    [InlineData("switched-off")]
    [InlineData("deleted")]
    [InlineData("reset")]
    public async Task RetriesStopWhenDeliveryIsSwitchedOffTheWebhookDeletedOrTheEmulatorReset(string stop)
    {
        await RegisterWebhookAsync();
        _receiver.DefaultAnswer = 500;
        var id = await ConnectAsync("WHATSAPP");
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "ERROR" });
        await _receiver.WaitForAsync(1);

        switch (stop)
        {
            case "switched-off":
                await emulator.ControlAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });
                break;
            case "deleted":
                var webhook = (await GetAsync("/api/v1/webhooks")).GetProperty("items")[0].GetProperty("id").GetString();
                (await emulator.Http.DeleteAsync($"/api/v1/webhooks/{webhook}", Ct)).EnsureSuccessStatusCode();
                break;
            default:
                await emulator.ControlAsync(HttpMethod.Post, "/_emulator/reset");
                break;
        }
        var afterStop = _receiver.Received.Count;
        await Task.Delay(500, Ct);   // five retries at 50 ms would all have come by now

        Assert.InRange(_receiver.Received.Count - afterStop, 0, 1);   // at most the one already in flight
        Assert.True(_receiver.Received.Count < 6);
    }

    [Fact]
    public async Task AReconnectScanSendsReconnectedThenOk()
    {
        var id = await ConnectAsync("WHATSAPP");
        await emulator.ScanAsync(id);
        await RegisterWebhookAsync();

        (await PostAsync($"/api/v1/accounts/{id}", new { provider = "WHATSAPP" })).EnsureSuccessStatusCode();
        await emulator.ScanAsync(id);

        Assert.Equal(["RECONNECTED", "OK"], (await _receiver.WaitForAsync(2)).Select(MessageOf));
    }

    [Fact]
    public async Task MalformedOrMistypedBodiesAre400NotCrashes()
    {
        using var duplicate = new StringContent("""{"provider":"WHATSAPP","provider":"TELEGRAM"}""", System.Text.Encoding.UTF8, "application/json");

        await AssertUnipileErrorAsync(await emulator.Http.PostAsync("/api/v1/accounts", duplicate, Ct), 400, "errors/malformed_request");
        await AssertUnipileErrorAsync(await emulator.Http.PostAsync("/api/v1/accounts", new StringContent("not json"), Ct), 400, "errors/malformed_request");
        await AssertUnipileErrorAsync(await PostAsync("/api/v1/webhooks", new { request_url = _receiver.Url, source = "account_status", account_ids = new[] { 123 } }), 400, "errors/invalid_parameters");
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/_emulator/instagram/users", new { username = "u", password = "p", checkpoints = new[] { 1 } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/_emulator/settings", new { checkpoint_status_code = 200 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/_emulator/faults", new { status = 204 })).StatusCode);
    }

    [Fact]
    public async Task QrCheckpointsAreNotSolvedWithCodes()
    {
        var id = await ConnectAsync("WHATSAPP");

        await AssertUnipileErrorAsync(await PostAsync("/api/v1/accounts/checkpoint", new { provider = "WHATSAPP", account_id = id, code = "1" }), 400, "errors/invalid_parameters");
    }

    [Fact]
    public async Task ExpireRefusesUnknownAccountsAndAccountsWithoutAnOpenIntent()
    {
        var id = await ConnectAsync("WHATSAPP");
        await emulator.ScanAsync(id);

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("/_emulator/accounts/nope/expire", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync($"/_emulator/accounts/{id}/expire", new { })).StatusCode);
    }

    [Fact]
    public async Task StatusRouteNotifiesUnlessToldNotTo()
    {
        await RegisterWebhookAsync();
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "STOPPED", notify = false });
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "CREDENTIALS" });

        Assert.Equal(["CREDENTIALS"], (await _receiver.WaitForAsync(1)).Select(MessageOf));
        Assert.Equal("CREDENTIALS", (await GetAsync($"/api/v1/accounts/{id}")).GetProperty("sources")[0].GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync($"/_emulator/accounts/{id}/status", new { status = "SLEEPY" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync("/_emulator/accounts/nope/status", new { status = "OK" })).StatusCode);
    }

    [Fact]
    public async Task WebhookDeliveryCanBeSwitchedOffAndOn()
    {
        await RegisterWebhookAsync();
        var id = await ConnectAsync("WHATSAPP");

        await emulator.ControlAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = false });
        await emulator.ScanAsync(id);
        await Task.Delay(200, Ct);
        Assert.Empty(_receiver.Received);

        await emulator.ControlAsync(HttpMethod.Post, "/_emulator/settings", new { deliver_webhooks = true });
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{id}/status", new { status = "OK" });
        Assert.Equal(["OK"], (await _receiver.WaitForAsync(1)).Select(MessageOf));
    }

    [Fact]
    public async Task AWebhookLimitedToSomeAccountsHearsOnlyThose()
    {
        var watched = await ConnectAsync("WHATSAPP");
        var other = await ConnectAsync("WHATSAPP");
        await RegisterWebhookAsync(accountIds: [watched]);

        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{other}/status", new { status = "ERROR" });
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{watched}/status", new { status = "STOPPED" });

        Assert.Equal(["STOPPED"], (await _receiver.WaitForAsync(1)).Select(MessageOf));
        var listed = (await GetAsync("/api/v1/webhooks")).GetProperty("items")[0];
        Assert.Equal(watched, listed.GetProperty("account_ids")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task DeletingAnAccountSendsDeleted()
    {
        await RegisterWebhookAsync();
        var id = await ConnectAsync("TELEGRAM");

        Assert.Equal("AccountDeleted", (await (await emulator.Http.DeleteAsync($"/api/v1/accounts/{id}", Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("object").GetString());

        Assert.Equal(["DELETED"], (await _receiver.WaitForAsync(1)).Select(MessageOf));
        Assert.Equal(HttpStatusCode.NotFound, (await emulator.Http.GetAsync($"/api/v1/accounts/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task FaultsMatchByMethodAndPathPrefixAndAreClearedByDelete()
    {
        await emulator.FaultAsync(new { method = "GET", path = "/api/v1/webhooks*", status = 500, count = 5 });

        await AssertUnipileErrorAsync(await emulator.Http.GetAsync("/api/v1/webhooks", Ct), 500, "errors/unexpected_error");
        Assert.Equal(HttpStatusCode.OK, (await emulator.Http.GetAsync("/api/v1/accounts", Ct)).StatusCode);
        await emulator.ControlAsync(HttpMethod.Delete, "/_emulator/faults");
        Assert.Equal(HttpStatusCode.OK, (await emulator.Http.GetAsync("/api/v1/webhooks", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("/_emulator/faults", new { count = 0, status = 503 })).StatusCode);
    }

    [Fact]
    public async Task ScriptedInstagramUsersFailWrongPasswordsAndUnknownUsersConnectAtOnce()
    {
        await emulator.RegisterInstagramUserAsync("scripted", "right", ["2FA"]);

        await AssertUnipileErrorAsync(await PostAsync("/api/v1/accounts", new { provider = "INSTAGRAM", username = "scripted", password = "wrong" }), 401, "errors/invalid_credentials");
        var challenged = await PostAsync("/api/v1/accounts", new { provider = "INSTAGRAM", username = "scripted", password = "right" });
        var direct = await PostAsync("/api/v1/accounts", new { provider = "INSTAGRAM", username = "never_registered", password = "whatever" });

        Assert.Equal(HttpStatusCode.Accepted, challenged.StatusCode);
        Assert.Equal("2FA", (await challenged.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("checkpoint").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Created, direct.StatusCode);
        Assert.Equal("AccountCreated", (await direct.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("object").GetString());
    }

    [Fact]
    public async Task ResetForgetsEverything()
    {
        await ConnectAsync("WHATSAPP");
        await RegisterWebhookAsync();

        await emulator.ControlAsync(HttpMethod.Post, "/_emulator/reset");

        Assert.Empty((await emulator.ControlAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray());
        Assert.Empty((await GetAsync("/api/v1/webhooks")).GetProperty("items").EnumerateArray());
        Assert.Empty(await emulator.DeliveriesAsync());
    }

    [Fact]
    public async Task UnipileRoutesNeedTheApiKeyAndAnswerInUnipilesEnvelope()
    {
        using var anonymous = new HttpClient { BaseAddress = emulator.BaseAddress };

        await AssertUnipileErrorAsync(await anonymous.GetAsync("/api/v1/accounts", Ct), 401, "errors/missing_credentials");
        await AssertUnipileErrorAsync(await emulator.Http.GetAsync("/api/v1/nothing-here", Ct), 404, "errors/resource_not_found");
        await AssertUnipileErrorAsync(await PostAsync("/api/v1/accounts", new { provider = "FAX" }), 400, "errors/invalid_parameters");
    }

    [Fact]
    public async Task TheCheckpointStatusCodeOptionIsHonoured()
    {
        await using var reference = new Checkpoint201Emulator();
        await reference.InitializeAsync();

        var response = await reference.Http.PostAsJsonAsync("/api/v1/accounts", new { provider = "WHATSAPP" }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("Checkpoint", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("object").GetString());
    }

    private async Task<string> ConnectAsync(string provider) =>
        (await (await PostAsync("/api/v1/accounts", new { provider })).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("account_id").GetString()!;

    private async Task RegisterWebhookAsync(object? headers = null, string[]? accountIds = null) =>
        (await PostAsync("/api/v1/webhooks", new { request_url = _receiver.Url, source = "account_status", name = "test", headers = headers ?? Array.Empty<object>(), account_ids = accountIds ?? [] }))
            .EnsureSuccessStatusCode();

    private Task<HttpResponseMessage> PostAsync(string path, object body) => emulator.Http.PostAsJsonAsync(path, body, Ct);

    private async Task<JsonElement> GetAsync(string path) => await emulator.Http.GetFromJsonAsync<JsonElement>(path, Ct);

    private static string MessageOf(ReceivedWebhook webhook) =>
        JsonDocument.Parse(webhook.Body).RootElement.GetProperty("AccountStatus").GetProperty("message").GetString()!;

    private static async Task AssertUnipileErrorAsync(HttpResponseMessage response, int status, string type)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((status, type), (body.GetProperty("status").GetInt32(), body.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
    }

    [Fact]
    public async Task RetryDelaysMustBeFiveAndGrowing()
    {
        await using var shrinking = new ShrinkingRetriesEmulator();

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await shrinking.InitializeAsync());

        Assert.Contains("exactly 5 delays", error.ToString(), StringComparison.Ordinal);
    }

    private sealed class ShrinkingRetriesEmulator : EmulatorServer
    {
        public ShrinkingRetriesEmulator() => Settings["Emulator:WebhookRetryDelays:4"] = "00:00:00.001";
    }

    private sealed class QuickIntentEmulator : EmulatorServer
    {
        public QuickIntentEmulator() => Settings["Emulator:IntentLifetime"] = "00:00:00.200";
    }

    private sealed class Checkpoint201Emulator : EmulatorServer
    {
        public Checkpoint201Emulator() => Settings["Emulator:CheckpointStatusCode"] = "201";
    }
}
