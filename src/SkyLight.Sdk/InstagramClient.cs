using System.Text.Json;

namespace SkyLight.Sdk;

/// <summary>Instagram: a login with username and password, then as many verification codes as Instagram asks for.</summary>
public sealed class InstagramClient
{
    private readonly ApiTransport _transport;

    internal InstagramClient(ApiTransport transport) => _transport = transport;

    /// <summary>Logs in. The result holds the channel, or the verification Instagram waits for.</summary>
    /// <param name="username">The Instagram username or e-mail.</param>
    /// <param name="password">The password; sent to the API once and never kept by the SDK.</param>
    /// <param name="country">ISO 3166-1 alpha-2 code routing the connection (the API's default is SA).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<InstagramLogin> ConnectAsync(string username, string password, string? country = null, CancellationToken cancellationToken = default) =>
        LoginAsync("api/v1/channels/instagram/connect", new { username, password, country }, cancellationToken);

    /// <summary>Submits a verification code: the channel, or the next verification round. A wrong code throws a 422.</summary>
    public Task<InstagramLogin> SubmitCodeAsync(string accountId, string code, CancellationToken cancellationToken = default) =>
        LoginAsync("api/v1/channels/instagram/2fa", new { account_id = accountId, code }, cancellationToken);

    /// <summary>Asks Instagram to send the code again (at most every 30 seconds; a 429 within bounds is waited out).</summary>
    public Task ResendCodeAsync(string accountId, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Post, "api/v1/channels/instagram/2fa/resend", new { account_id = accountId }, cancellationToken);

    /// <summary>This channel type's events: newest first, or oldest first after <see cref="ChannelEventQuery.After"/> (its Type is ignored).</summary>
    public Task<ChannelEventPage> GetEventsAsync(ChannelEventQuery? query = null, CancellationToken cancellationToken = default) =>
        ChannelsClient.GetEventsAsync(_transport, "api/v1/channels/instagram/events", query ?? new ChannelEventQuery(), includeType: false, cancellationToken);

    /// <summary>The channel from the API's records.</summary>
    public Task<Channel> GetStatusAsync(CancellationToken cancellationToken = default) =>
        _transport.DataAsync<Channel>(HttpMethod.Get, "api/v1/channels/instagram/status", null, cancellationToken);

    /// <summary>Pulls the account's status from Unipile.</summary>
    public Task<Channel> RefreshAsync(CancellationToken cancellationToken = default) =>
        _transport.DataAsync<Channel>(HttpMethod.Post, "api/v1/channels/instagram/refresh", null, cancellationToken);

    /// <summary>Removes the account from Unipile and deletes the channel.</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) =>
        _transport.SendAsync(HttpMethod.Post, "api/v1/channels/instagram/disconnect", null, cancellationToken);

    private async Task<InstagramLogin> LoginAsync(string path, object body, CancellationToken cancellationToken)
    {
        var answer = await _transport.SendAsync(HttpMethod.Post, path, body, cancellationToken).ConfigureAwait(false);
        return ApiTransport.Read(answer, a =>
        {
            var data = a.GetProperty("data");
            var message = a.TryGetProperty("message", out var m) ? m.GetString() : null;
            return data.TryGetProperty("requires_2fa", out _)
                ? new InstagramLogin(null, data.Deserialize<VerificationRequired>(ApiTransport.Json), message)
                : new InstagramLogin(data.Deserialize<Channel>(ApiTransport.Json), null, message);
        }, "an Instagram login");
    }
}
