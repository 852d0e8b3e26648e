using SkyLight.Api.Channels;

namespace SkyLight.Api.Webhooks;

internal static class WebhooksSetup
{
    /// <summary>Receiving Unipile's webhooks, processing them, and registering ours with Unipile at start.</summary>
    public static WebApplicationBuilder AddUnipileWebhooks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SkyLightOptions>().BindConfiguration(SkyLightOptions.Section)
            // an empty value (e.g. SkyLight__PublicBaseUrl=) means "not set", not "an invalid URL"
            .PostConfigure(options => options.PublicBaseUrl = string.IsNullOrWhiteSpace(options.PublicBaseUrl) ? null : options.PublicBaseUrl)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddBackgroundLoop<WebhookInboxProcessor>();
        builder.Services.AddHostedService<WebhookRegistrar>();
        return builder;
    }
}
