using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Unipile;
using Unipile.Emulator;

namespace SkyLight.Api.Tests.Unipile;

/// <summary>The Unipile emulator on a real loopback port, with short delays so retries and confirmations are quick.</summary>
public class EmulatorServer : IAsyncLifetime
{
    public const string ApiKey = "emulator-key";

    private readonly List<ServiceProvider> _providers = [];
    private WebApplication? _app;

    /// <summary>Emulator settings; change them in a subclass constructor, before it starts.</summary>
    protected Dictionary<string, string?> Settings { get; } = new()
    {
        ["Emulator:TelegramConfirmDelay"] = "00:00:00.200",
        ["Emulator:WebhookRetryDelays:0"] = "00:00:00.050",
        ["Emulator:WebhookRetryDelays:1"] = "00:00:00.050",
        ["Emulator:WebhookRetryDelays:2"] = "00:00:00.050",
        ["Emulator:WebhookRetryDelays:3"] = "00:00:00.050",
        ["Emulator:WebhookRetryDelays:4"] = "00:00:00.050",
    };

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Raw HTTP to the emulator: Unipile routes (with the key) and /_emulator controls.</summary>
    public HttpClient Http { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var app = EmulatorApp.Build(["--urls", "http://127.0.0.1:0"], builder => builder.Configuration.AddInMemoryCollection(Settings));
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();   // a host that failed to start cannot be stopped
            throw;
        }
        _app = app;
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Http = new HttpClient { BaseAddress = BaseAddress };
        Http.DefaultRequestHeaders.Add("X-API-KEY", ApiKey);
    }

    /// <summary>The service's own Unipile client, registered exactly as the service registers it.</summary>
    internal UnipileClient CreateClient(TimeSpan? requestTimeout = null, string apiKey = ApiKey)
    {
        var provider = BuildClientServices(BaseAddress, apiKey, requestTimeout);
        lock (_providers)
        {
            _providers.Add(provider);   // the client lives as long as this emulator
        }
        return provider.GetRequiredService<UnipileClient>();
    }

    /// <summary>The service's Unipile registration on its own; dispose it when the client is done.</summary>
    internal static ServiceProvider BuildClientServices(Uri baseAddress, string apiKey, TimeSpan? requestTimeout = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Unipile:BaseUrl"] = baseAddress.ToString(),
            ["Unipile:ApiKey"] = apiKey,
            ["Unipile:WebhookSecret"] = "test-webhook-secret",
            ["Unipile:RequestTimeout"] = (requestTimeout ?? TimeSpan.FromSeconds(5)).ToString(),
            ["Unipile:RetryDelay"] = "00:00:00.010",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddUnipile();
        return services.BuildServiceProvider();
    }

    public async Task<JsonElement> ControlAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<JsonElement> ScanAsync(string accountId, object? body = null) =>
        ControlAsync(HttpMethod.Post, $"/_emulator/accounts/{accountId}/scan", body ?? new { });

    public Task RegisterInstagramUserAsync(string username, string password, string[] checkpoints, string code = "123456") =>
        ControlAsync(HttpMethod.Post, "/_emulator/instagram/users", new { username, password, checkpoints, code });

    public Task FaultAsync(object fault) => ControlAsync(HttpMethod.Post, "/_emulator/faults", fault);

    public async Task<string[]> AccountIdsAsync() =>
        [.. (await ControlAsync(HttpMethod.Get, "/_emulator/accounts")).EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];

    /// <summary>Accounts here that the service on <paramref name="database"/> does not hold (no channel, no pending attempt).</summary>
    internal async Task<string[]> OrphansAsync(TestDatabase database)
    {
        await using var db = database.Open();
        var held = await Channels.ChannelsApp.HeldAccountsAsync(db);
        return [.. (await AccountIdsAsync()).Where(id => !held.Contains(id))];
    }

    public async Task<JsonElement[]> DeliveriesAsync() =>
        [.. (await ControlAsync(HttpMethod.Get, "/_emulator/webhook-deliveries")).EnumerateArray()];

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
