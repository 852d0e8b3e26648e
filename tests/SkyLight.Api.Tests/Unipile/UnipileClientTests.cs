using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Tests.Unipile;

/// <summary>The service's Unipile client against the emulator, over real HTTP.</summary>
public sealed class UnipileClientTests(EmulatorServer emulator) : IClassFixture<EmulatorServer>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly UnipileClient _client = emulator.CreateClient();

    public async ValueTask InitializeAsync()
    {
        await emulator.ControlAsync(HttpMethod.Delete, "/_emulator/faults");
        await emulator.ControlAsync(HttpMethod.Post, "/_emulator/settings", new { checkpoint_status_code = 202, deliver_webhooks = true });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task ConnectWhatsAppAnswersAQrInWhatsAppsMultiDeviceForm()
    {
        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);

        Assert.Equal(ConnectResult.CheckpointRequired, outcome.Result);
        Assert.Equal("QRCODE", outcome.Checkpoint!.Type);
        Assert.Matches("^2@[^,]+,[A-Za-z0-9+/]+=*,[A-Za-z0-9+/]+=*,[A-Za-z0-9+/]+=*$", outcome.Checkpoint.Qrcode);
    }

    [Fact]
    public async Task ConnectTelegramAnswersATelegramLoginLink()
    {
        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Telegram), Ct);

        Assert.Equal(ConnectResult.CheckpointRequired, outcome.Result);
        Assert.Matches("^tg://login\\?token=[A-Za-z0-9_-]+$", outcome.Checkpoint!.Qrcode);
    }

    [Fact]
    public async Task GetAccountReadsStatusAndPhoneNumberAfterTheScan()
    {
        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        Assert.Equal("CONNECTING", (await _client.GetAccountAsync(outcome.AccountId, Ct)).Status);

        await emulator.ScanAsync(outcome.AccountId, new { phone_number = "966501234567" });
        var account = await _client.GetAccountAsync(outcome.AccountId, Ct);

        Assert.Equal("OK", account.Status);
        Assert.Equal("WHATSAPP", account.Type);
        Assert.Equal("966501234567", account.Im!.PhoneNumber);
    }

    [Fact]
    public async Task ListingFollowsCursorsToTheEndAndSeesEveryAccountOnce()
    {
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Telegram), Ct)).AccountId);
        }

        var first = await _client.ListAccountsAsync(null, 2, Ct);
        var all = new List<string>();
        await foreach (var account in _client.ListAllAccountsAsync(Ct))
        {
            all.Add(account.Id);
        }

        Assert.Equal(2, first.Items.Count);
        Assert.NotNull(first.Cursor);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(created, id => Assert.Contains(id, all));
    }

    [Fact]
    public async Task DeletedAccountIsGoneWith404()
    {
        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);

        await _client.DeleteAccountAsync(outcome.AccountId, Ct);

        var error = await Assert.ThrowsAsync<UnipileException>(() => _client.GetAccountAsync(outcome.AccountId, Ct));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("Not Found", error.Title);
    }

    [Fact]
    public async Task InstagramWithoutChallengeIsCreatedAtOnce()
    {
        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram)
        {
            Username = $"brand_{Guid.NewGuid():N}",
            Password = "any",
            Country = "SA",
            UserAgent = "Mozilla/5.0",
        }, Ct);

        Assert.Equal(ConnectResult.Created, outcome.Result);
        Assert.Equal("OK", (await _client.GetAccountAsync(outcome.AccountId, Ct)).Status);
    }

    [Fact]
    public async Task InstagramCheckpointRoundsAreSolvedOneByOneAndAWrongCodeKeepsTheRound()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        await emulator.RegisterInstagramUserAsync(username, "right", ["OTP", "2FA"], "654321");

        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "right" }, Ct);
        Assert.Equal(("OTP", ConnectResult.CheckpointRequired), (connect.Checkpoint?.Type, connect.Result));

        var wrong = await Assert.ThrowsAsync<UnipileException>(() => _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "000000", Ct));
        Assert.True(wrong.Is(HttpStatusCode.Unauthorized, "errors/invalid_checkpoint_solution"));

        var second = await _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "654321", Ct);
        Assert.Equal(("2FA", connect.AccountId), (second.Checkpoint?.Type, second.AccountId));

        var done = await _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "654321", Ct);
        Assert.Equal(ConnectResult.Created, done.Result);
        Assert.Equal("OK", (await _client.GetAccountAsync(connect.AccountId, Ct)).Status);
    }

    [Fact]
    public async Task WrongInstagramPasswordIsInvalidCredentials()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        await emulator.RegisterInstagramUserAsync(username, "right", []);

        var error = await Assert.ThrowsAsync<UnipileException>(() =>
            _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "wrong" }, Ct));

        Assert.True(error.Is(HttpStatusCode.Unauthorized, "errors/invalid_credentials"));
        Assert.Equal("The provided credentials are invalid.", error.Detail);
    }

    [Fact]
    public async Task ResendWorksWhileACheckpointWaitsAndIsRefusedOtherwise()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        await emulator.RegisterInstagramUserAsync(username, "pw", ["OTP"]);
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);

        await _client.ResendCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, Ct);
        await _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "123456", Ct);

        var error = await Assert.ThrowsAsync<UnipileException>(() => _client.ResendCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, Ct));
        Assert.True(error.Is(HttpStatusCode.BadRequest, "errors/invalid_request"));
    }

    [Fact]
    public async Task ReconnectKeepsTheAccountIdAndASecondIntentIsTooEarly()
    {
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        await emulator.ScanAsync(connect.AccountId);

        var reconnect = await _client.ReconnectAsync(connect.AccountId, new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        var again = await Assert.ThrowsAsync<UnipileException>(() =>
            _client.ReconnectAsync(connect.AccountId, new ConnectRequest(UnipileProvider.WhatsApp), Ct));

        Assert.Equal((ConnectResult.CheckpointRequired, connect.AccountId), (reconnect.Result, reconnect.AccountId));
        Assert.NotEqual(connect.Checkpoint!.Qrcode, reconnect.Checkpoint!.Qrcode);
        Assert.True(again.Is((HttpStatusCode)425, "errors/auth_in_progress"));
    }

    [Fact]
    public async Task InstagramReconnectWithoutChallengeIsReconnected()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);

        var reconnect = await _client.ReconnectAsync(connect.AccountId, new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);

        Assert.Equal((ConnectResult.Reconnected, connect.AccountId), (reconnect.Result, reconnect.AccountId));
    }

    [Fact]
    public async Task WebhooksAreCreatedListedAndDeleted()
    {
        var id = await _client.CreateWebhookAsync(new WebhookRegistration("http://127.0.0.1:9/unipile", "account_status", "skylight-test",
            [new WebhookHeader("Unipile-Auth", "s3cret")]), Ct);

        var listed = Assert.Single(await _client.ListWebhooksAsync(Ct), w => w.Id == id);
        await _client.DeleteWebhookAsync(id, Ct);

        Assert.Equal(("skylight-test", "http://127.0.0.1:9/unipile", true), (listed.Name, listed.RequestUrl, listed.Enabled));
        Assert.DoesNotContain(await _client.ListWebhooksAsync(Ct), w => w.Id == id);
        Assert.DoesNotContain("s3cret", new WebhookRegistration("u", "s", "n", [new WebhookHeader("Unipile-Auth", "s3cret")]).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongApiKeyIsMissingCredentials()
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() => emulator.CreateClient(apiKey: "wrong").ListAccountsAsync(null, 10, Ct));

        Assert.True(error.Is(HttpStatusCode.Unauthorized, "errors/missing_credentials"));
    }

    [Fact]
    public async Task BadParametersAreReportedWithUnipilesType()
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() => _client.ListAccountsAsync(null, 500, Ct));

        Assert.True(error.Is(HttpStatusCode.BadRequest, "errors/invalid_parameters"));
    }

    [Fact]
    public async Task GetsAreRetriedThroughTransient503s()
    {
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        await emulator.FaultAsync(new { method = "GET", path = $"/api/v1/accounts/{connect.AccountId}", status = 503, count = 2 });

        var account = await _client.GetAccountAsync(connect.AccountId, Ct);

        Assert.Equal(connect.AccountId, account.Id);
    }

    [Fact]
    public async Task PostsAreNeverRetriedSoA503SurfacesOncePerCall()
    {
        await emulator.FaultAsync(new { method = "POST", path = "/api/v1/accounts", status = 503, count = 2 });

        var first = await Assert.ThrowsAsync<UnipileException>(() => _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct));
        var second = await Assert.ThrowsAsync<UnipileException>(() => _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct));
        var third = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);

        // had the first call been retried it would have used up both faults, and the second would have succeeded
        Assert.True(first.Is(HttpStatusCode.ServiceUnavailable, "errors/service_unavailable"));
        Assert.True(second.Is(HttpStatusCode.ServiceUnavailable));
        Assert.Equal(ConnectResult.CheckpointRequired, third.Result);
    }

    [Fact]
    public async Task ASlowPostTimesOutAsOneClearFailure()
    {
        var impatient = emulator.CreateClient(requestTimeout: TimeSpan.FromMilliseconds(300));
        await emulator.FaultAsync(new { method = "POST", path = "/api/v1/accounts", delay_ms = 3000 });

        var error = await Assert.ThrowsAsync<UnipileException>(() => impatient.ConnectAsync(new ConnectRequest(UnipileProvider.Telegram), Ct));

        Assert.Equal((null, UnipileException.Timeout), (error.StatusCode, error.Type));
    }

    [Fact]
    public async Task ASlowGetIsRetriedAfterItsAttemptTimesOut()
    {
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        var impatient = emulator.CreateClient(requestTimeout: TimeSpan.FromMilliseconds(300));
        await emulator.FaultAsync(new { method = "GET", path = $"/api/v1/accounts/{connect.AccountId}", delay_ms = 3000 });

        Assert.Equal(connect.AccountId, (await impatient.GetAccountAsync(connect.AccountId, Ct)).Id);
    }

    [Fact]
    public async Task ProviderLatencyIsWaitedOut()
    {
        await emulator.FaultAsync(new { latency_ms = 300 });
        var clock = Stopwatch.StartNew();

        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);

        // a call without latency takes a few ms; timers may fire a little early, hence 250 rather than 300
        Assert.True(clock.ElapsedMilliseconds >= 250, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(ConnectResult.CheckpointRequired, outcome.Result);
    }

    [Theory]
    [InlineData(201)]
    [InlineData(202)]
    public async Task ACheckpointIsRecognisedWhateverItsSuccessStatus(int status)
    {
        var settings = await emulator.ControlAsync(HttpMethod.Post, "/_emulator/settings", new { checkpoint_status_code = status });
        Assert.Equal(status, settings.GetProperty("checkpoint_status_code").GetInt32());
        using var raw = await emulator.Http.PostAsync("/api/v1/accounts", JsonContent.Create(new { provider = "TELEGRAM" }), Ct);
        Assert.Equal(status, (int)raw.StatusCode);

        var outcome = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);

        Assert.Equal(ConnectResult.CheckpointRequired, outcome.Result);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("")]
    public async Task AnAnswerIsReadAsJsonWhateverItsContentType(string contentType)
    {
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct);
        await emulator.FaultAsync(new { method = "GET", path = "/api/v1/accounts/*", content_type = contentType, count = 2 });
        using var raw = await emulator.Http.GetAsync($"/api/v1/accounts/{connect.AccountId}", Ct);
        Assert.Equal(contentType.Length == 0 ? null : contentType, raw.Content.Headers.ContentType?.MediaType);

        Assert.Equal(connect.AccountId, (await _client.GetAccountAsync(connect.AccountId, Ct)).Id);
    }

    [Fact]
    public async Task AnExpiredCheckpointIsATimeoutThenForgotten()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        await emulator.RegisterInstagramUserAsync(username, "pw", ["OTP"]);
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);
        await emulator.ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{connect.AccountId}/expire");

        var first = await Assert.ThrowsAsync<UnipileException>(() => _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "123456", Ct));
        var second = await Assert.ThrowsAsync<UnipileException>(() => _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "123456", Ct));

        Assert.True(first.Is(HttpStatusCode.RequestTimeout, "errors/request_timeout"));
        Assert.True(second.Is(HttpStatusCode.BadRequest, "errors/invalid_request"));
    }

    [Fact]
    public async Task AnInstagramReconnectThroughACheckpointEndsReconnected()
    {
        var username = $"brand_{Guid.NewGuid():N}";
        var connect = await _client.ConnectAsync(new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);
        await emulator.RegisterInstagramUserAsync(username, "pw", ["2FA"]);

        var reconnect = await _client.ReconnectAsync(connect.AccountId, new ConnectRequest(UnipileProvider.Instagram) { Username = username, Password = "pw" }, Ct);
        var solved = await _client.SolveCheckpointAsync(connect.AccountId, UnipileProvider.Instagram, "123456", Ct);

        Assert.Equal(("2FA", ConnectResult.Reconnected, connect.AccountId), (reconnect.Checkpoint?.Type, solved.Result, solved.AccountId));
    }

    [Fact]
    public async Task AnUnreachableUnipileIsOneClearFailure()
    {
        await using var services = EmulatorServer.BuildClientServices(new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}"), "k");   // nothing listens there
        var client = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<UnipileClient>(services);

        var error = await Assert.ThrowsAsync<UnipileException>(() => client.ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct));

        Assert.Equal((null, UnipileException.Unreachable), (error.StatusCode, error.Type));
    }

    [Fact]
    public void ARequestsPrintedFormNeverShowsThePassword()
    {
        var request = new ConnectRequest(UnipileProvider.Instagram) { Username = "brand", Password = "Pa55-w0rd-XYZ" };

        Assert.DoesNotContain("Pa55-w0rd-XYZ", request.ToString(), StringComparison.Ordinal);
        Assert.Contains("brand", request.ToString(), StringComparison.Ordinal);
    }
}
