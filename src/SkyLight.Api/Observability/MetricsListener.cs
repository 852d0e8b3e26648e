using System.Net;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace SkyLight.Api.Observability;

/// <summary>
/// The scrape endpoint on a port of its own (<see cref="MetricsOptions.Port"/>): a second, minimal Kestrel server in the
/// process that serves only the scrape, whatever the API's addresses come from (<c>--urls</c>, <c>HTTP_PORTS</c>,
/// <c>Kestrel:Endpoints</c>) and whatever Host a scraper names (a port mapping, a proxy). The API's server never serves it.
/// </summary>
internal sealed class MetricsListener(IOptions<MetricsOptions> options, IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private WebApplication? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var metrics = options.Value;
        var port = metrics.Port!.Value;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            if (metrics.Host is "*" or "0.0.0.0" or "::")
            {
                kestrel.ListenAnyIP(port);
            }
            else if (metrics.Host == "localhost")
            {
                kestrel.ListenLocalhost(port);
            }
            else
            {
                kestrel.Listen(IPAddress.TryParse(metrics.Host, out var address) ? address
                    : throw new InvalidOperationException($"Metrics:Host {metrics.Host} is not an IP address."), port);
            }
        });
        builder.Services.AddRoutingCore();
        _server = builder.Build();
        _server.UseRouting();
        _server.MapPrometheusScrapingEndpoint(metrics.Path, services.GetRequiredService<MeterProvider>(), configureBranchedPipeline: null, optionsName: null);
        try
        {
            await _server.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Metrics:Port {port} could not be listened on ({metrics.Host}): {e.Message}", e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
