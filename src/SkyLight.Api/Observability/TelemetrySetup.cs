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

    /// <summary>
    /// The tags HttpClient's metrics keep: not server.address, which for a delivery names an integrator's host (as
    /// dns.question.name does for the DNS lookups HttpClient's instrumentation also brings).
    /// </summary>
    private static readonly string[] ClientMetricTags = ["http.request.method", "http.response.status_code", "error.type", "url.scheme",
        "network.protocol.version", "http.connection.state"];

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations()
            .Validate<IConfiguration>((metrics, configuration) => metrics.Port is not { } port || !ApiPorts(configuration).Contains(port),
                "Metrics:Port must not be a port the API listens on: the two are separate servers.")
            .ValidateOnStart();
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
        var otlpTraces = otlp || !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        var otlpMetrics = otlp || !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);
        var tracing = configuration.GetValue<bool?>("Tracing:Enabled") ?? otlpTraces;
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? ServiceName));
        if (metrics.Enabled)
        {
            builder.Services.AddSingleton<DatabaseGauges>();
            telemetry.WithMetrics(meters =>
            {
                meters.AddMeter(SkyLightMetrics.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation()
                    .AddView("http.client.*", new MetricStreamConfiguration { TagKeys = ClientMetricTags })
                    .AddView("dns.lookup.duration", new MetricStreamConfiguration { TagKeys = ["error.type"] })
                    // recorded on every request, and of little use to an operator next to http.server.request.duration: not listened to
                    .AddView("aspnetcore.routing.match_attempts", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.authentication.*", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.authorization.*", MetricStreamConfiguration.Drop)
                    .AddView("aspnetcore.memory_pool.*", MetricStreamConfiguration.Drop)
                    .AddPrometheusExporter(prometheus =>
                    {
                        prometheus.ScrapeEndpointPath = metrics.Path;
                        prometheus.ScrapeResponseCacheDurationMilliseconds = 0;   // the database gauges keep their own reading a second
                    });
                if (otlpMetrics)
                {
                    meters.AddOtlpExporter();
                }
            });
            if (metrics.Port is not null)
            {
                builder.Services.AddHostedService<MetricsListener>();
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
                if (otlpTraces)
                {
                    traces.AddOtlpExporter();
                }
            });
        }
        return builder;
    }

    /// <summary>
    /// The scrape endpoint, and the database gauges behind it; on the API's port unless <see cref="MetricsOptions.Port"/>
    /// gives it a port of its own (<see cref="MetricsListener"/>).
    /// </summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!metrics.Enabled)
        {
            return app;
        }
        app.Services.GetRequiredService<DatabaseGauges>();   // registers its gauges with the meter
        if (metrics.Port is null)
        {
            app.MapPrometheusScrapingEndpoint(metrics.Path).ExcludeFromDescription();
        }
        return app;
    }

    /// <summary>The ports the API is configured to listen on, as far as its configuration names them.</summary>
    private static HashSet<int> ApiPorts(IConfiguration configuration)
    {
        var ports = new HashSet<int>();
        var urls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(endpoint => endpoint["Url"]).OfType<string>());
        foreach (var url in urls)
        {
            try
            {
                ports.Add(BindingAddress.Parse(url).Port);
            }
            catch (FormatException)
            {
                // not an address Kestrel would take either: it says so itself
            }
        }
        foreach (var port in $"{configuration["http_ports"]};{configuration["https_ports"]}".Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                ports.Add(number);
            }
        }
        if (ports.Count == 0)
        {
            ports.Add(BindingAddress.Parse(Hosting.HostingDefaults.DefaultAddress).Port);
        }
        return ports;
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
