using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Observability;

/// <summary>The Prometheus scrape endpoint. On by default, on the API's own port unless <see cref="Port"/> moves it.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>False: no metrics are collected and there is no scrape endpoint (OTLP export of metrics goes too).</summary>
    public bool Enabled { get; set; } = true;

    [RegularExpression("^/[A-Za-z0-9/_.-]*$", ErrorMessage = "Metrics:Path must be a path such as /metrics.")]
    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// A port of its own for the scrape endpoint, on the same interface as the API, which then no longer serves it; that
    /// port serves nothing else. Null: the API's port.
    /// </summary>
    [Range(1, 65535)]
    public int? Port { get; set; }
}
