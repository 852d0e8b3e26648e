using System.Net;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

internal static class UnipileLogins
{
    /// <summary>
    /// Reconnects the account, keeping its Unipile id; connects afresh when there is no account to reconnect
    /// or Unipile no longer has it.
    /// </summary>
    public static async Task<ConnectOutcome> ReconnectOrConnectAsync(this UnipileClient unipile, string? accountId, ConnectRequest request,
        ILogger log, CancellationToken ct)
    {
        if (accountId is null)
        {
            return await unipile.ConnectAsync(request, ct);
        }
        try
        {
            return await unipile.ReconnectAsync(accountId, request, ct);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            log.LogInformation("Unipile no longer has account {AccountId}; connecting afresh", accountId);
            return await unipile.ConnectAsync(request, ct);
        }
    }
}
