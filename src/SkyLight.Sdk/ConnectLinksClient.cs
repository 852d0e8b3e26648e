namespace SkyLight.Sdk;

/// <summary>What a connect link is for, and where its page sends the user afterwards.</summary>
public sealed record ConnectLinkRequest
{
    /// <summary>whatsapp, telegram or instagram.</summary>
    public required string Type { get; init; }

    /// <summary>Where the page sends the user once connected, with <c>state</c> and <c>channel_id</c> added.</summary>
    public string? SuccessRedirectUrl { get; init; }

    /// <summary>Where the page sends the user who cancels or opens a dead link, with <c>state</c> and <c>error</c> added.</summary>
    public string? FailureRedirectUrl { get; init; }

    /// <summary>How long the link works: 60 seconds to 7 days; 3600 when null.</summary>
    public int? ExpiresInSeconds { get; init; }

    /// <summary>Anything to get back on the redirect (your user's id, say); at most 500 characters.</summary>
    public string? State { get; init; }
}

/// <summary>A link to the hosted connect page.</summary>
/// <param name="Id">Its id, for reading and revoking it.</param>
/// <param name="Type">whatsapp, telegram or instagram.</param>
/// <param name="Url">The page's address: only in the answer to <see cref="ConnectLinksClient.CreateAsync"/> (the service keeps a hash).</param>
/// <param name="Status">active, expired, revoked or used.</param>
/// <param name="State">What the redirects carry back.</param>
/// <param name="SuccessRedirectUrl">Where the page sends the user once connected.</param>
/// <param name="FailureRedirectUrl">Where the page sends the user who cancels or opens a dead link.</param>
/// <param name="ChannelId">The channel connected through it, once used.</param>
/// <param name="ExpiresAt">When it stops working, in the workspace's offset.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="RevokedAt">When it was revoked, if it was.</param>
/// <param name="UsedAt">When the channel connected through it, if it did.</param>
public sealed record ConnectLink(Guid Id, string Type, string? Url, string Status, string? State, string? SuccessRedirectUrl, string? FailureRedirectUrl,
    int? ChannelId, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, DateTimeOffset? UsedAt);

/// <summary>Connect links: a hosted page where the account's owner connects it, in Arabic or English, with no screen of yours.</summary>
public sealed class ConnectLinksClient
{
    private const string Path = "api/v1/channels/connect-links";
    private readonly ApiTransport _transport;

    internal ConnectLinksClient(ApiTransport transport) => _transport = transport;

    /// <summary>A new link; send its <see cref="ConnectLink.Url"/> to the user. 409 when the type is connected already.</summary>
    public Task<ConnectLink> CreateAsync(ConnectLinkRequest request, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<ConnectLink>(HttpMethod.Post, Path, request, cancellationToken);

    /// <summary>The link's status now (its URL is not kept).</summary>
    public Task<ConnectLink> GetAsync(Guid id, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<ConnectLink>(HttpMethod.Get, $"{Path}/{id}", null, cancellationToken);

    /// <summary>Revokes the link: its page stops working at once.</summary>
    public Task RevokeAsync(Guid id, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Delete, $"{Path}/{id}", null, cancellationToken);
}
