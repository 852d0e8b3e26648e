using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Observability;

/// <summary>The Prometheus scrape endpoint. On by default, on the API's own port unless <see cref="Port"/> moves it.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>False: no metrics are collected and there is no scrape endpoint (OTLP export of metrics goes too).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>One or more plain segments, none of them a route of the service's own (/api, /health, /connect, …).</summary>
    [RegularExpression("(?i)^(?!/(api|health|connect|connect-assets|webhooks|docs|openapi|scalar|_emulator)(/|$))(/[A-Za-z0-9_-]+)+$",
        ErrorMessage = "Metrics:Path must be a path of plain segments such as /metrics, outside the service's own routes.")]
    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// A port of its own for the scrape endpoint, which then serves nothing else, while the API's port no longer serves
    /// it. Null: the API's port.
    /// </summary>
    [Range(1, 65535, ErrorMessage = "Metrics:Port must be a port number, 1 to 65535.")]
    public int? Port { get; set; }

    /// <summary>The interface <see cref="Port"/> listens on: <c>*</c> (every one, as a scraper on another host needs), <c>localhost</c> or an IP address.</summary>
    [RegularExpression(@"^(\*|localhost|[0-9A-Fa-f.:]+)$", ErrorMessage = "Metrics:Host must be *, localhost or an IP address.")]
    public string Host { get; set; } = "*";
}
