using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Hosting;

/// <summary>The per-node caches of API keys and channel status (<see cref="FreshCache{TKey, TValue}"/>).</summary>
internal sealed class CacheOptions
{
    public const string Section = "Cache";

    /// <summary>
    /// The oldest a cached key or channel is ever served: how long another node's change (a revoked key, a deactivated
    /// workspace, a channel's last sync) can take to show on this node. Zero turns the caches off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many API keys a node keeps.</summary>
    [Range(1, 10_000_000)]
    public int Keys { get; set; } = 100_000;

    /// <summary>How many unknown or revoked keys a node remembers as such, apart from the known ones so a flood cannot push those out.</summary>
    [Range(1, 10_000_000)]
    public int UnknownKeys { get; set; } = 10_000;

    /// <summary>How many channels (with their latest connect attempt) a node keeps.</summary>
    [Range(1, 10_000_000)]
    public int Channels { get; set; } = 200_000;

    /// <summary>How many key lookups one node makes in the database at once; a flood of unknown keys queues behind this.</summary>
    [Range(1, 1_000)]
    public int KeyLookups { get; set; } = 8;
}
