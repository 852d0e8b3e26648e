using System.Security.Cryptography;
using Unipile.Emulator;

namespace SkyLight.Api.Hosting;

/// <summary>
/// The newcomer's default: with no <c>Unipile:BaseUrl</c> in Development, the Unipile emulator runs inside
/// this process on its own port, and the service talks to it over HTTP exactly as it would to Unipile.
/// Outside Development an empty BaseUrl fails options validation at start.
/// </summary>
internal static class EmbeddedUnipile
{
    public const string DefaultUrl = "http://127.0.0.1:5081";

    public static WebApplicationBuilder AddEmbeddedUnipileWhenUnconfigured(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (!string.IsNullOrWhiteSpace(configuration["Unipile:BaseUrl"]) || !builder.Environment.IsDevelopment())
        {
            return builder;
        }

        var url = configuration["Unipile:EmbeddedEmulatorUrl"] is { Length: > 0 } configured ? configured : DefaultUrl;
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Unipile:BaseUrl"] = url,
            ["Unipile:ApiKey"] = configuration["Emulator:ApiKey"] is { Length: > 0 } key ? key : "emulator-key",
            ["Unipile:WebhookSecret"] = configuration["Unipile:WebhookSecret"] is { Length: > 0 } secret ? secret : RandomNumberGenerator.GetHexString(32),
            // the emulator is this service's alone: an account it holds that nobody recorded is ours to delete
            ["Unipile:DeleteUnrecordedAccounts"] = configuration["Unipile:DeleteUnrecordedAccounts"] is { Length: > 0 } delete ? delete : "true",
            ["SkyLight:PublicBaseUrl"] = configuration["SkyLight:PublicBaseUrl"] is { Length: > 0 } own ? own : OwnAddress(configuration),
        });
        builder.Services.AddHostedService(services => new EmbeddedEmulatorHost(url, configuration.GetSection("Emulator"),
            services.GetRequiredService<ILogger<EmbeddedEmulatorHost>>()));
        return builder;
    }

    /// <summary>The first address the service listens on, as the emulator (on this machine) can reach it.</summary>
    private static string OwnAddress(ConfigurationManager configuration)
    {
        var first = (configuration["urls"] ?? HostingDefaults.DefaultAddress).Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        return first.Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal);
    }
}

internal sealed class EmbeddedEmulatorHost(string url, IConfiguration emulatorSettings, ILogger<EmbeddedEmulatorHost> log) : IHostedService
{
    private WebApplication? _emulator;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _emulator = EmulatorApp.Build(["--urls", url], emulator => emulator.Configuration.AddInMemoryCollection(
            emulatorSettings.AsEnumerable().Where(setting => setting.Value is not null)));
        await _emulator.StartAsync(cancellationToken);
        log.LogWarning(
            "Unipile emulator running in-process at {Url}: no real WhatsApp, Telegram or Instagram account is connected. " +
            "Simulate a QR scan with: curl -X POST {Url}/_emulator/accounts/<account_id>/scan -H 'Content-Type: application/json' " +
            "-d '{{\"phone_number\":\"966501234567\"}}'. Set Unipile:BaseUrl and Unipile:ApiKey to use Unipile itself.", url, url);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_emulator is not null)
        {
            await _emulator.StopAsync(cancellationToken);
            await _emulator.DisposeAsync();
        }
    }
}
