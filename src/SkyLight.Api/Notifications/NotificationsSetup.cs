using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;

namespace SkyLight.Api.Notifications;

internal static class NotificationsSetup
{
    /// <summary>Outgoing webhooks: endpoints, the fan-out from the journal, the sender, and the key ring that keeps their secrets.</summary>
    public static WebApplicationBuilder AddOutgoingWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhooksOptions>().BindConfiguration(WebhooksOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // one application name and one key ring in the database: every node can sign what another registered
        builder.Services.AddDataProtection().SetApplicationName("SkyLight.Channels").PersistKeysToDbContext<SkyLightDb>();
        builder.Services.AddHostedService<KeyRingStart>();
        builder.Services.AddSingleton<WebhookSecrets>();
        builder.Services.AddSingleton<HostResolver>();
        builder.Services.AddSingleton<WebhookTargets>();
        builder.Services.AddHttpClient(WebhookSender.HttpClientName, http =>
            {
                http.Timeout = Timeout.InfiniteTimeSpan;   // the sender's own timeout runs on the service's TimeProvider
                http.DefaultRequestHeaders.UserAgent.ParseAdd("SkyLight-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                ConnectCallback = services.GetRequiredService<WebhookTargets>().ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            });
        builder.Services.AddBackgroundLoop<DeliveryFanOut>();
        builder.Services.AddBackgroundLoop<WebhookSender>();
        return builder;
    }
}

/// <summary>
/// Loads the key ring at start, on PostgreSQL under an advisory lock: nodes starting together on an empty ring would
/// each make a first key at once, and a node could not read a secret another one protected until its ring refreshes.
/// </summary>
internal sealed class KeyRingStart(IServiceScopeFactory scopes, IDataProtectionProvider protection) : IHostedService
{
    private const long KeyRingLock = 0x536B794C4B657973;   // "SkyLKeys"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        if (!db.Database.IsNpgsql())
        {
            protection.CreateProtector(nameof(KeyRingStart)).Protect("start");
            return;
        }
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({KeyRingLock})", cancellationToken);
            protection.CreateProtector(nameof(KeyRingStart)).Protect("start");
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({KeyRingLock})", cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
