using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace SkyLight.Api.Hosting;

internal static class HealthEndpoints
{
    /// <summary>Live: the process answers. Ready: it can also reach its database.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}
