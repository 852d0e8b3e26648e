namespace SkyLight.Sdk;

/// <summary>Settings of a <see cref="SkyLightClient"/>.</summary>
public sealed class SkyLightClientOptions
{
    /// <summary>The workspace's API key (sk_live_…), sent as X-Api-Key. Leave null if the HttpClient already sends one.</summary>
    public string? ApiKey { get; set; }

    /// <summary>How many times a 429 is waited out (per its retry_after) before it is thrown. 0 throws at once.</summary>
    public int MaxRateLimitRetries { get; set; } = 2;

    /// <summary>The longest retry_after the client waits out; a longer one is thrown.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <see cref="QrChannelClient.ConnectAndWatchAsync"/> polls status (the API suggests 2–3 seconds).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long an event stream may say nothing, not even its heartbeat (every 15 s), before the client treats the
    /// connection as dead and connects again.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>The wait before reconnecting a broken event stream, until the server names its own (3 s).</summary>
    public TimeSpan StreamReconnectDelay { get; set; } = TimeSpan.FromSeconds(3);
}
