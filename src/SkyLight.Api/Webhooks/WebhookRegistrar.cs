using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Webhooks;

internal sealed class SkyLightOptions
{
    public const string Section = "SkyLight";

    /// <summary>Where Unipile can reach this service; webhooks go to this + /webhooks/unipile. Empty: none registered.</summary>
    [System.ComponentModel.DataAnnotations.Url]
    public string? PublicBaseUrl { get; set; }
}

/// <summary>
/// Makes sure Unipile has exactly one account_status webhook for this service, with the current secret:
/// kept across restarts when it already exists, replaced when its secret changed. Retries until Unipile answers.
/// </summary>
internal sealed class WebhookRegistrar(IServiceScopeFactory scopes, IOptions<UnipileOptions> unipileOptions, IOptions<SkyLightOptions> options,
    TimeProvider time, ILogger<WebhookRegistrar> log) : BackgroundService
{
    public const string WebhookName = "skylight-account-status";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrEmpty(options.Value.PublicBaseUrl))
        {
            log.LogWarning("SkyLight:PublicBaseUrl is not set: no Unipile webhook is registered, so channel status follows polls and refreshes only");
            return;
        }
        var url = options.Value.PublicBaseUrl.TrimEnd('/') + UnipileWebhookApi.Path;
        for (var attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                // nodes starting together take turns: otherwise each finds no webhook and each registers one
                if (!await ClaimRegistrationAsync(stoppingToken))
                {
                    await Task.Delay(RegistrationLease / 4, time, stoppingToken);
                    continue;
                }
                await EnsureRegisteredAsync(url, stoppingToken);
                return;
            }
            catch (UnipileException e)
            {
                var wait = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempt)));
                log.LogWarning("Registering the Unipile webhook failed ({Type}); retrying in {Wait}", e.Type, wait);
                await Task.Delay(wait, time, stoppingToken);
            }
        }
    }

    private static readonly TimeSpan RegistrationLease = TimeSpan.FromSeconds(20);

    private async Task<bool> ClaimRegistrationAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var now = time.GetUtcNow();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().TryClaimJobAsync(nameof(WebhookRegistrar), now, now + RegistrationLease, ct);
    }

    public async Task EnsureRegisteredAsync(string url, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var unipile = scope.ServiceProvider.GetRequiredService<UnipileClient>();
        var secret = unipileOptions.Value.WebhookSecret;
        var ours = (await unipile.ListWebhooksAsync(ct)).Where(w => w.RequestUrl == url).ToList();
        var keep = ours.FirstOrDefault(w => HasSecret(w, secret));
        foreach (var stale in ours.Where(w => w != keep))
        {
            await unipile.DeleteWebhookAsync(stale.Id, ct);
        }
        if (keep is not null)
        {
            log.LogInformation("Unipile webhook {WebhookId} for {Url} is already registered", keep.Id, url);
            return;
        }
        var id = await unipile.CreateWebhookAsync(new WebhookRegistration(url, "account_status", WebhookName,
            [new WebhookHeader("Content-Type", "application/json"), new WebhookHeader(UnipileWebhookApi.SecretHeader, secret)]), ct);
        log.LogInformation("Registered Unipile webhook {WebhookId} for {Url}", id, url);
    }

    private static bool HasSecret(UnipileWebhook webhook, string secret) =>
        webhook.Headers?.Any(h => string.Equals(h.Key, UnipileWebhookApi.SecretHeader, StringComparison.OrdinalIgnoreCase) &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(h.Value), Encoding.UTF8.GetBytes(secret))) == true;
}
