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
    /// Connects and follows the login: first the QR code (Status null), then every status change, until it completes, fails,
    /// or expires (the last update has IsFinal). It follows the event stream, opened before the connect so that no change
    /// is missed, and reads the status again on each event about the attempt; against a server without the stream it polls
    /// every <see cref="SkyLightClientOptions.PollInterval"/>.
    /// </summary>
    public async IAsyncEnumerable<QrLoginUpdate> ConnectAndWatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IAsyncEnumerator<bool>? changes = null;
        Task<bool>? waiting = null;
        try
        {
            var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            yield return new QrLoginUpdate(connection, null);
            changes = (stream is null ? Ticks(stop.Token) : Changes(stream, connection.AccountId, stop.Token)).GetAsyncEnumerator(stop.Token);
            ChannelStatus? last = null;
            while (true)
            {
                // a change, or the attempt's end: the expiry job says so with an event, the deadline in case nobody did
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    deadline.CancelAfter(Max(connection.ExpiresAt.AddSeconds(5) - TimeProvider.System.GetUtcNow(), TimeSpan.Zero));
                    waiting ??= changes.MoveNextAsync().AsTask();
                    try
                    {
                        await waiting.WaitAsync(deadline.Token).ConfigureAwait(false);
                        waiting = null;
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // past the deadline: the status read now is final
                    }
                }
                var status = await GetStatusAsync(connection.AccountId, cancellationToken).ConfigureAwait(false);
                var final = status.Completed || status.Failed || TimeProvider.System.GetUtcNow() >= connection.ExpiresAt.AddSeconds(5);
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
        finally
        {
            // an iterator cannot be disposed while it waits: stop its wait first
            await stop.CancelAsync().ConfigureAwait(false);
            if (waiting is not null)
            {
                await waiting.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
            if (changes is not null)
            {
                await changes.DisposeAsync().ConfigureAwait(false);
            }
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// This type's event stream, open; null when the server has none (an older one answers 404 or 405), the key holds
    /// all the streams it may (429), or the stream cannot be opened (5xx, network, timeout): then the watch polls, as it
    /// did before streams, and meets any lasting fault on its connect.
    /// </summary>
    private async Task<EventStream?> OpenStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await EventStream.OpenAsync(_transport, _type, after: null, cancellationToken).ConfigureAwait(false);
        }
        catch (SkyLightApiException e) when (e.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.MethodNotAllowed
            or System.Net.HttpStatusCode.TooManyRequests or >= System.Net.HttpStatusCode.InternalServerError)
        {
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Each event about the account: a reason to read its status again.</summary>
    private static async IAsyncEnumerable<bool> Changes(EventStream stream, string accountId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var channelEvent in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (channelEvent.AccountId == accountId)
            {
                yield return true;
            }
        }
    }

    /// <summary>Without a stream: a reason to read the status every poll interval.</summary>
    private async IAsyncEnumerable<bool> Ticks([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_transport.Options.PollInterval, cancellationToken).ConfigureAwait(false);
            yield return true;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
