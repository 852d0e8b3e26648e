using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Channels.Events;

/// <summary>Live event streams: the API's, per key, and the hosted connect page's, per link.</summary>
internal sealed class StreamsOptions
{
    public const string Section = "Streams";

    /// <summary>A comment line goes out when a stream was quiet this long, so proxies keep it open and clients see it alive.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How many streams one API key may hold open on one node at once; one more is answered 429.</summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerKey { get; set; } = 5;

    /// <summary>How many streams one connect link's page may hold open on one node at once.</summary>
    [Range(1, 100)]
    public int MaxConnectionsPerLink { get; set; } = 3;
}
