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

    /// <summary>The Idempotency-Key of the first POST this client sends (a command line's <c>--idempotency-key</c>); later POSTs get fresh ones.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Sends a fresh Idempotency-Key with every POST (kept across its retries). Off: only keys set with <see cref="SkyLightIdempotency.UseKey"/>.</summary>
    public bool SendIdempotencyKeys { get; set; } = true;

    /// <summary>How many times a POST with an Idempotency-Key is sent again after the connection failed (its answer was lost).</summary>
    public int MaxTransportRetries { get; set; } = 2;

    /// <summary>The wait before such a retry.</summary>
    public TimeSpan TransportRetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
