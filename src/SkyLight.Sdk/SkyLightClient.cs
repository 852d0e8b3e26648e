namespace SkyLight.Sdk;

/// <summary>
/// The SkyLight Chat Channels API. Thread-safe; make one per HttpClient (whose BaseAddress is the API's root,
/// e.g. https://dashboard.skylightchat.com/) and keep it.
/// </summary>
public sealed class SkyLightClient
{
    /// <summary>Creates the client over an HttpClient whose BaseAddress is the API's root.</summary>
    public SkyLightClient(HttpClient http, SkyLightClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        var transport = new ApiTransport(http, options ?? new SkyLightClientOptions());
        WhatsApp = new QrChannelClient(transport, "whatsapp");
        Telegram = new QrChannelClient(transport, "telegram");
        Instagram = new InstagramClient(transport);
        Campaigns = new CampaignsClient(transport);
        Account = new AccountClient(transport);
        Channels = new ChannelsClient(transport);
        Webhooks = new WebhooksClient(transport);
        ConnectLinks = new ConnectLinksClient(transport);
    }

    /// <summary>Every channel's journal: what changed, why and when.</summary>
    public ChannelsClient Channels { get; }

    /// <summary>WhatsApp: connect by QR code, status, refresh, disconnect.</summary>
    public QrChannelClient WhatsApp { get; }

    /// <summary>Telegram: connect by QR code, status, refresh, disconnect.</summary>
    public QrChannelClient Telegram { get; }

    /// <summary>Instagram: username and password, verification codes, status, refresh, disconnect.</summary>
    public InstagramClient Instagram { get; }

    /// <summary>Outreach campaigns (lifecycle).</summary>
    public CampaignsClient Campaigns { get; }

    /// <summary>The workspace: its channels in one call.</summary>
    public AccountClient Account { get; }

    /// <summary>Links to the hosted connect page, for the account's owner to connect it there.</summary>
    public ConnectLinksClient ConnectLinks { get; }

    /// <summary>Outgoing webhooks: endpoints for channel events, their delivery log, replays, tests and secret rotation.</summary>
    public WebhooksClient Webhooks { get; }
}

/// <summary>The workspace behind the API key.</summary>
public sealed class AccountClient
{
    private readonly ApiTransport _transport;

    internal AccountClient(ApiTransport transport) => _transport = transport;

    /// <summary>All three channel types in one call; null where a type is not connected.</summary>
    public Task<AccountChannels> GetChannelsAsync(CancellationToken cancellationToken = default) =>
        _transport.DataAsync<AccountChannels>(HttpMethod.Get, "api/v1/account/channels", null, cancellationToken);
}
