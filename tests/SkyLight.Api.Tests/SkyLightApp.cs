using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tests;

/// <summary>
/// The service in-process on real Kestrel, on its own SQLite file, with its embedded Unipile emulator on a
/// port of its own (so webhooks travel over real HTTP), a fake clock, and every log line captured. One per
/// test class; each test makes its own workspace, so tests never see each other's data.
/// </summary>
public class SkyLightApp : WebApplicationFactory<Program>
{
    public static readonly DateTimeOffset Start = new(2026, 3, 11, 7, 0, 0, TimeSpan.Zero);

    private readonly int _port = ServiceProcess.FreePort();
    private readonly int _emulatorPort = ServiceProcess.FreePort();

    public SkyLightApp()
    {
        UseKestrel();
        // the health pass paces its reads on the service's clock, which a fake one would never move: no pacing in tests
        Settings["Channels:HealthMaxRate"] = "1000000";
        // test receivers listen on loopback; the tests that check the refusal switch it off
        Settings["Webhooks:AllowPrivateTargets"] = "true";
    }

    /// <summary>The embedded emulator: Unipile's API and the /_emulator control routes.</summary>
    public Uri EmulatorUrl => new($"http://127.0.0.1:{_emulatorPort}");

    /// <summary>Set it to open a database something else (a management verb) wrote.</summary>
    public TestDatabase Database { get; init; } = TestDatabase.New();

    /// <summary>Development by default, which hosts the emulator when Unipile:BaseUrl is empty.</summary>
    public string Environment { get; init; } = "Development";

    /// <summary>Configuration overrides, applied before the host is built.</summary>
    public Dictionary<string, string?> Settings { get; } = [];
    /// <summary>The service's clock, unless <see cref="UsesFakeClock"/> is false.</summary>
    public FakeTimeProvider Time { get; } = new(Start);

    /// <summary>The service's clock when <see cref="UsesFakeClock"/> is false: real time that a test can move forward.</summary>
    public ShiftingClock Clock { get; } = new();

    /// <summary>
    /// False for tests that talk to Unipile: its resilience pipeline (timeouts, retry delays) runs on the
    /// service's TimeProvider and would never move on a fake one. They get <see cref="Clock"/> instead.
    /// </summary>
    protected virtual bool UsesFakeClock => true;
    public CapturedLogs Logs { get; } = new();

    /// <summary>Holds a request after a tagged query, for tests that make a race interleave on purpose.</summary>
    public QueryGate Gate { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        foreach (var (key, value) in Database.Settings)
        {
            builder.UseSetting(key, value);
        }
        if (System.Environment.GetEnvironmentVariable("SKYLIGHT_TEST_REDIS") is { Length: > 0 } redis)
        {
            // the PostgreSQL pass shares rate limits through Redis, as several nodes do; each host keeps its own keys
            builder.UseSetting("Redis:Configuration", redis);
            builder.UseSetting("Redis:InstanceName", $"test-{Guid.NewGuid():N}:");
        }
        builder.UseSetting("urls", $"http://127.0.0.1:{_port}");
        builder.UseSetting("Unipile:EmbeddedEmulatorUrl", EmulatorUrl.ToString().TrimEnd('/'));
        builder.UseSetting("Emulator:TelegramConfirmDelay", "00:00:00.200");
        for (var retry = 0; retry < 5; retry++)
        {
            builder.UseSetting($"Emulator:WebhookRetryDelays:{retry}", "00:00:00.050");
        }
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.AddProvider(Logs).AddFilter<CapturedLogs>(null, LogLevel.Trace));
        builder.ConfigureTestServices(services => services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(Gate));
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(UsesFakeClock ? Time : Clock));
    }

    /// <summary>A fresh workspace with one key, and a client that sends it as <c>X-Api-Key</c>.</summary>
    public async Task<TestWorkspace> NewWorkspaceAsync(string timeZone = Workspace.DefaultTimeZone)
    {
        await using var scope = Services.CreateAsyncScope();
        var (workspace, key) = await scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>()
            .CreateWorkspaceAsync($"Test {Guid.NewGuid():N}", timeZone, TestContext.Current.CancellationToken);
        return new TestWorkspace(workspace.Id, key, ClientWithKey(key));
    }

    public HttpClient ClientWithKey(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public HttpClient ClientWithBearer(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DropAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed record TestWorkspace(int Id, string ApiKey, HttpClient Client);
