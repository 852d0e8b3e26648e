using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace SkyLight.Api.Observability;

/// <summary>
/// OpenTelemetry: metrics from ASP.NET Core, HttpClient, the runtime and <see cref="SkyLightMetrics"/>, scraped at
/// <c>/metrics</c> and pushed by OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; traces of requests with their
/// Unipile calls and database commands, when OTLP is set or <c>Tracing:Enabled</c> says so; JSON console logs.
/// </summary>
internal static class TelemetrySetup
{
    public const string ServiceName = "skylight-channels";

    /// <summary>The tags HttpClient's metrics keep: not server.address, which for a delivery names an integrator's host.</summary>
    private static readonly string[] ClientMetricTags = ["http.request.method", "http.response.status_code", "error.type", "url.scheme",
        "network.protocol.version", "http.connection.state"];

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<SkyLightMetrics>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, JsonLogFormatter>());
        builder.Services.PostConfigure<ConsoleLoggerOptions>(console =>
        {
            if (string.Equals(console.FormatterName, ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
            {
                console.FormatterName = JsonLogFormatter.FormatterName;
            }
        });

        var configuration = builder.Configuration;
        var metrics = configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var tracing = configuration.GetValue<bool?>("Tracing:Enabled") ?? (otlp || !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]));
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? ServiceName));
        if (metrics.Enabled)
        {
            builder.Services.AddSingleton(services => new DatabaseGauges(services.GetRequiredService<SkyLightMetrics>().Meter,
                services.GetRequiredService<IServiceScopeFactory>(), services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<DatabaseGauges>>()));
            telemetry.WithMetrics(meters =>
            {
                meters.AddMeter(SkyLightMetrics.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation()
                    .AddView("http.client.*", new MetricStreamConfiguration { TagKeys = ClientMetricTags })
                    .AddPrometheusExporter(prometheus => prometheus.ScrapeEndpointPath = metrics.Path);
                if (otlp)
                {
                    meters.AddOtlpExporter();
                }
            });
            if (metrics.Port is { } port)
            {
                AddMetricsPort(builder, port);
            }
        }
        if (tracing)
        {
            telemetry.WithTracing(traces =>
            {
                traces.AddAspNetCoreInstrumentation(aspNetCore =>
                    {
                        aspNetCore.Filter = http => !http.Request.Path.StartsWithSegments(metrics.Path) && !http.Request.Path.StartsWithSegments("/health");
                        aspNetCore.EnrichWithHttpRequest = Enrich;
                    })
                    .AddHttpClientInstrumentation()
                    .AddEntityFrameworkCoreInstrumentation();
                if (otlp)
                {
                    traces.AddOtlpExporter();
                }
            });
        }
        return builder;
    }

    /// <summary>
    /// The scrape endpoint (and the database gauges behind it); on a port of its own when <see cref="MetricsOptions.Port"/>
    /// says so, where nothing else is served.
    /// </summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!metrics.Enabled)
        {
            return app;
        }
        app.Services.GetRequiredService<DatabaseGauges>();   // registers its gauges with the meter
        var endpoint = app.MapPrometheusScrapingEndpoint(metrics.Path).ExcludeFromDescription();
        if (metrics.Port is { } port)
        {
            endpoint.RequireHost($"*:{port}");
        }
        return app;
    }

    /// <summary>On the metrics port, anything but the scrape endpoint is a 404: that port is for the scraper only.</summary>
    public static WebApplication UseMetricsPortForMetricsOnly(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (metrics is { Enabled: true, Port: { } port })
        {
            app.Use((http, next) => http.Connection.LocalPort == port && !http.Request.Path.Equals(metrics.Path, StringComparison.Ordinal)
                ? Results.NotFound().ExecuteAsync(http)
                : next(http));
        }
        return app;
    }

    /// <summary>Listens on the metrics port too, on each interface the API listens on.</summary>
    private static void AddMetricsPort(WebApplicationBuilder builder, int port)
    {
        var urls = (builder.Configuration["urls"] ?? Hosting.HostingDefaults.DefaultAddress).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var addresses = urls.Select(BindingAddress.Parse).ToList();
        if (addresses.Any(address => address.Port == port))
        {
            // the API would answer nothing there but /metrics: refuse rather than start a service that turns every request away
            throw new InvalidOperationException($"Metrics:Port {port} is a port the API listens on ({string.Join(", ", urls)}); give the metrics another port.");
        }
        var metricsUrls = addresses.Select(address => $"http://{address.Host}:{port}").Distinct();
        builder.WebHost.UseUrls([.. urls, .. metricsUrls]);
    }

    /// <summary>The request id joins the trace to the logs and the X-Request-Id answer; a connect link's token never reaches a trace.</summary>
    private static void Enrich(Activity activity, HttpRequest request)
    {
        activity.SetTag("http.request.id", request.HttpContext.TraceIdentifier);
        if (request.Path.StartsWithSegments("/connect", out var rest) && rest.HasValue)
        {
            activity.SetTag("url.path", JsonLogFormatter.Redact(request.Path.Value));
        }
    }
}
