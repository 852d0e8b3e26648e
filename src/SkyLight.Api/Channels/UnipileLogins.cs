using System.Net;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Starts a login at Unipile: a reconnect of the channel's account, or a new account. A create is preceded by a
/// durable <see cref="AccountCreation"/> intent, so an account Unipile makes while we stop listening (a timeout,
/// a crash) is found and reconciled later instead of being orphaned.
/// </summary>
internal sealed class UnipileLogins(SkyLightDb db, UnipileClient unipile, CurrentWorkspace workspace, TimeProvider time, ILogger<UnipileLogins> log)
{
    /// <summary>
    /// Reconnects the account, keeping its Unipile id; connects afresh when there is no account to reconnect or
    /// Unipile no longer has it. The answer's account carries the intent to settle once it is recorded.
    /// </summary>
    public async Task<(ConnectOutcome Outcome, NewAccount Account)> ReconnectOrConnectAsync(string type, string? accountId, ConnectRequest request, CancellationToken ct)
    {
        if (accountId is not null)
        {
            try
            {
                var outcome = await unipile.ReconnectAsync(accountId, request, ct);
                return (outcome, new NewAccount(outcome.AccountId, outcome.AccountId == accountId, null));
            }
            catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                log.LogInformation("Unipile no longer has account {AccountId}; connecting afresh", accountId);
            }
        }
        return await CreateAsync(type, request, ct);
    }

    private async Task<(ConnectOutcome, NewAccount)> CreateAsync(string type, ConnectRequest request, CancellationToken ct)
    {
        var intent = db.AccountCreations.Add(new AccountCreation
        {
            WorkspaceId = workspace.Id, ChannelType = type, Provider = request.Provider, StartedAt = time.GetUtcNow(),
        }).Entity;
        await db.SaveChangesAsync(ct);
        db.Entry(intent).State = EntityState.Detached;
        try
        {
            var outcome = await unipile.ConnectAsync(request, ct);
            return (outcome, new NewAccount(outcome.AccountId, false, intent.Id));
        }
        catch (UnipileException e) when (e.StatusCode is not null || e.Type == UnipileException.CircuitOpen)
        {
            // Unipile answered (or was never asked): no account exists, so there is nothing to reconcile. Without an
            // answer (a timeout) Unipile may have created one anyway: the intent stays for the reconciler.
            await db.AccountCreations.Where(c => c.Id == intent.Id).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
    }
}
