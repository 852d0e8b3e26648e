using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.RateLimiting;

internal sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    [Range(1, int.MaxValue)]
    public int PermitLimit { get; set; } = 120;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Prefixes every Redis key (<c>Redis:InstanceName</c>), so deployments sharing one Redis keep apart.</summary>
    public string RedisKeyPrefix { get; set; } = "skylight:";
}
