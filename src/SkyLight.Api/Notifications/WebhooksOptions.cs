using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Notifications;

/// <summary>Outgoing webhooks: how deliveries are made and retried, and where they may go.</summary>
internal sealed class WebhooksOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// Lets endpoints resolve to loopback, private, link-local or multicast addresses. Off outside Development: a
    /// registered URL could otherwise make this service call into the network it runs in.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How long a receiver has to answer 2xx.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first retry's delay; it doubles on each failure up to <see cref="RetryMaxDelay"/>, with ±<see cref="RetryJitter"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(12);

    /// <summary>A delivery not acknowledged this long after its first attempt is marked failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromDays(3);

    /// <summary>The share of each delay drawn at random (0.2: ±20 %), so receivers that come back are not hit all at once.</summary>
    [Range(0.0, 0.5)]
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>An endpoint none of whose attempts succeeded for this long is switched off (0: never).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How many deliveries one node makes at once.</summary>
    [Range(1, 256)]
    public int Parallelism { get; set; } = 16;

    /// <summary>How many deliveries to one endpoint one node makes at once: a receiver that hangs takes no more slots.</summary>
    [Range(1, 256)]
    public int ParallelismPerEndpoint { get; set; } = 4;

    /// <summary>How many endpoints a workspace may register.</summary>
    [Range(1, 1000)]
    public int MaxEndpointsPerWorkspace { get; set; } = 20;
}
