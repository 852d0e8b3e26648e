using System.Net;
using Microsoft.Extensions.Options;
using SkyLight.Api.Hosting;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Channels;

/// <summary>
/// Deletes queued Unipile accounts until Unipile confirms; 404 means someone already did. Items are queued by
/// <see cref="ChannelLifecycle.QueueDeletion"/> in the transaction that forgets the account.
/// </summary>
internal sealed class RemoteDeletionProcessor(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options,
    ILogger<RemoteDeletionProcessor> log) : LeasedQueue<RemoteDeletion>(scopes, time, options, log)
{
    protected override int Batch => 20;

    protected override int MaxAttempts => Options.DeletionMaxAttempts;

    public override string Name => "remote_deletions";

    protected override System.Linq.Expressions.Expression<Func<RemoteDeletion, DateTimeOffset>> QueuedAt => d => d.RequestedAt;

    protected override async Task<WorkOutcome> HandleAsync(RemoteDeletion item, IServiceProvider services, CancellationToken ct)
    {
        try
        {
            await services.GetRequiredService<UnipileClient>().DeleteAccountAsync(item.UnipileAccountId, ct);
        }
        catch (UnipileException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // already gone
        }
        catch (UnipileException e)
        {
            Log.LogWarning("Deleting Unipile account {AccountId} failed ({Type}); retry {Attempt}", item.UnipileAccountId, e.Type, item.Attempts + 1);
            return WorkOutcome.Retry(e.Type);
        }
        return WorkOutcome.Done;
    }
}
