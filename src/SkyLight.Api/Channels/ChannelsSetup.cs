using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

internal static class ChannelsSetup
{
    public static WebApplicationBuilder AddChannels(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ChannelsOptions>().BindConfiguration(ChannelsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<ChannelLifecycle>();
        builder.Services.AddScoped<ChannelStatusReader>();
        builder.Services.AddScoped<ChannelSync>();
        builder.Services.AddScoped<AttemptStore>();
        builder.Services.AddScoped<QrConnector>();
        builder.Services.AddScoped<InstagramConnector>();
        builder.Services.AddScoped<UnipileLogins>();
        builder.Services.AddSingleton<StatusPoller>();
        builder.Services.AddBackgroundLoop<RemoteDeletionProcessor>();
        builder.Services.AddBackgroundLoop<AttemptExpiry>();
        builder.Services.AddBackgroundLoop<ChannelHealthPass>();
        builder.Services.AddBackgroundLoop<CreationReconciler>();
        builder.Services.AddBackgroundLoop<Events.JournalRetention>();
        builder.Services.AddSingleton<Events.ChannelEventFeed>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<Events.ChannelEventFeed>());
        builder.Services.AddSingleton<Data.CommitSignals>();
        builder.Services.AddOptions<Events.StreamsOptions>().BindConfiguration(Events.StreamsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Events.JournalFollower>();
        builder.Services.AddSingleton<Events.StreamConnections>();
        builder.Services.AddSingleton<ChannelReadModel>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ChannelReadModel>());
        builder.Services.AddHostedService<CacheRefresher>();   // keys (Tenancy) and channels alike
        return builder;
    }

    /// <summary>One instance: the hosted loop, and the same object for whoever wakes it or runs it once.</summary>
    public static IServiceCollection AddBackgroundLoop<TLoop>(this IServiceCollection services) where TLoop : BackgroundLoop
    {
        services.AddSingleton<TLoop>();
        services.AddHostedService(provider => provider.GetRequiredService<TLoop>());
        return services;
    }
}
