using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.Unipile;

internal static class UnipileSetup
{
    /// <summary>
    /// The typed client with the standard resilience pipeline: per-attempt and total timeouts, a circuit
    /// breaker, and retries for GET only. A retried POST could create a second Unipile account.
    /// </summary>
    public static IServiceCollection AddUnipile(this IServiceCollection services)
    {
        services.AddOptions<UnipileOptions>().BindConfiguration(UnipileOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddMetrics().TryAddSingleton<Observability.SkyLightMetrics>();   // the client times each call
        services.AddHttpClient<UnipileClient>((provider, http) =>
            {
                var options = provider.GetRequiredService<IOptions<UnipileOptions>>().Value;
                http.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
                http.DefaultRequestHeaders.Add("X-API-KEY", options.ApiKey);
                http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                http.Timeout = Timeout.InfiniteTimeSpan;   // the resilience pipeline owns timeouts
            })
            .AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions resilience, IServiceProvider provider) =>
            {
                var options = provider.GetRequiredService<IOptions<UnipileOptions>>().Value;
                resilience.Retry.DisableForUnsafeHttpMethods();
                resilience.Retry.Delay = options.RetryDelay;
                resilience.AttemptTimeout.Timeout = options.RequestTimeout;
                resilience.TotalRequestTimeout.Timeout = options.RequestTimeout * 4 + options.RetryDelay * 8;
                resilience.CircuitBreaker.SamplingDuration = options.RequestTimeout * 2 > TimeSpan.FromSeconds(30)
                    ? options.RequestTimeout * 2
                    : TimeSpan.FromSeconds(30);
            });
        return services;
    }
}
