using System.Runtime.CompilerServices;

namespace SkyLight.Sdk;

/// <summary>What <see cref="QrChannelClient.ConnectAndWatchAsync"/> reports: the QR to show, then each status change.</summary>
/// <param name="Connection">The login attempt and its QR code.</param>
/// <param name="Status">The latest status; null on the first update, before any poll.</param>
public sealed record QrLoginUpdate(QrConnection Connection, ChannelStatus? Status)
{
    /// <summary>True once the login ended: connected, failed, or expired.</summary>
    public bool IsFinal { get; init; }
}

/// <summary>A channel that logs in by QR code: WhatsApp or Telegram.</summary>
public sealed class QrChannelClient
{
    private readonly ApiTransport _transport;
    private readonly string _type;

    internal QrChannelClient(ApiTransport transport, string type)
    {
        _transport = transport;
        _type = type;
    }

    /// <summary>Starts a login: a QR code to show and an account id to poll with. 409 when already connected.</summary>
    public Task<QrConnection> ConnectAsync(CancellationToken cancellationToken = default) =>
        _transport.DataAsync<QrConnection>(HttpMethod.Post, $"api/v1/channels/{_type}/connect", null, cancellationToken);

    /// <summary>The channel with completed/in_progress; pass the account id of the attempt being watched.</summary>
    public Task<ChannelStatus> GetStatusAsync(string? accountId = null, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<ChannelStatus>(HttpMethod.Get,
            $"api/v1/channels/{_type}/status" + (accountId is null ? "" : $"?account_id={Uri.EscapeDataString(accountId)}"), null, cancellationToken);

    /// <summary>This channel type's events: newest first, or oldest first after <see cref="ChannelEventQuery.After"/> (its Type is ignored).</summary>
    public Task<ChannelEventPage> GetEventsAsync(ChannelEventQuery? query = null, CancellationToken cancellationToken = default) =>
        ChannelsClient.GetEventsAsync(_transport, $"api/v1/channels/{_type}/events", query ?? new ChannelEventQuery(), includeType: false, cancellationToken);

    /// <summary>Pulls the account's status from Unipile.</summary>
    public Task<Channel> RefreshAsync(CancellationToken cancellationToken = default) =>
        _transport.DataAsync<Channel>(HttpMethod.Post, $"api/v1/channels/{_type}/refresh", null, cancellationToken);

    /// <summary>Removes the account from Unipile and deletes the channel. 422 while a campaign runs on it.</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Post, $"api/v1/channels/{_type}/disconnect", null, cancellationToken);

    /// <summary>The pending QR code rendered as an image.</summary>
    public Task<byte[]> GetQrImageAsync(string accountId, QrImageFormat format = QrImageFormat.Png, CancellationToken cancellationToken = default) =>
        _transport.BytesAsync($"api/v1/channels/{_type}/qr?account_id={Uri.EscapeDataString(accountId)}&format={format.ToString().ToLowerInvariant()}",
            cancellationToken);

    /// <summary>
    /// Connects and follows the login: first the QR code (Status null), then every status change, polling at
    /// <see cref="SkyLightClientOptions.PollInterval"/>, until it completes, fails, or expires (the last update has IsFinal).
    /// </summary>
    public async IAsyncEnumerable<QrLoginUpdate> ConnectAndWatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        yield return new QrLoginUpdate(connection, null);
        ChannelStatus? last = null;
        while (true)
        {
            await Task.Delay(_transport.Options.PollInterval, cancellationToken).ConfigureAwait(false);
            var status = await GetStatusAsync(connection.AccountId, cancellationToken).ConfigureAwait(false);
            var final = status.Completed || status.Failed || TimeProvider.System.GetUtcNow() > connection.ExpiresAt.AddSeconds(5);
            if (final || status != last)
            {
                yield return new QrLoginUpdate(connection, status) { IsFinal = final };
            }
            if (final)
            {
                yield break;
            }
            last = status;
        }
    }
}
