using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.Channels;

/// <summary>
/// Lets status ask Unipile about a pending attempt's account, so a lost webhook never leaves a user polling
/// forever, while many pollers cost Unipile at most one request per account per interval, one at a time.
/// </summary>
internal sealed class StatusPoller(IServiceScopeFactory scopes, TimeProvider time, IOptions<ChannelsOptions> options, ILogger<StatusPoller> log)
{
    /// <summary>The longest a status answer waits on Unipile; a slower poll goes on and the next status shows what it found.</summary>
    private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, Poll> _polls = [];
    private readonly Lock _sync = new();

    /// <summary>
    /// Joins the poll in flight, or starts one if the last started long enough ago, and waits for it at most
    /// <see cref="AnswerWait"/>: while Unipile is slow or down, status still answers from local records at once.
    /// </summary>
    public async Task PollIfDueAsync(string accountId, CancellationToken ct)
    {
        try
        {
            await StartOrJoin(accountId).WaitAsync(AnswerWait, time, ct);
        }
        catch (TimeoutException)
        {
            // answered from what the database holds now
        }
    }

    private Task StartOrJoin(string accountId)
    {
        var now = time.GetUtcNow();
        lock (_sync)
        {
            if (_polls.TryGetValue(accountId, out var current) &&
                (!current.Task.IsCompleted || now - current.StartedAt < options.Value.StatusPollInterval))
            {
                return current.Task;
            }
            if (_polls.Count > 10_000)
            {
                // attempts that ended without a poller noticing: forget their history
                foreach (var stale in _polls.Where(p => p.Value.Task.IsCompleted && now - p.Value.StartedAt > options.Value.StatusPollInterval).ToList())
                {
                    _polls.Remove(stale.Key);
                }
            }
            var poll = PollAsync(accountId);
            _polls[accountId] = new Poll(now, poll);
            return poll;
        }
    }

    /// <summary>Forgets an account's poll history once its attempt has ended.</summary>
    public void Forget(string accountId)
    {
        lock (_sync)
        {
            _polls.Remove(accountId);
        }
    }

    private async Task PollAsync(string accountId)
    {
        await Task.Yield();   // never run the poll inside the lock
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var now = time.GetUtcNow();
            var notBefore = now - options.Value.StatusPollInterval;
            // another node may have asked Unipile moments ago: the interval is claimed in the database
            if (await scope.ServiceProvider.GetRequiredService<Data.SkyLightDb>().ConnectAttempts.IgnoreQueryFilters([Data.SkyLightDb.TenantFilter])
                    .Where(a => a.UnipileAccountId == accountId && a.State == AttemptStates.Pending && (a.LastPolledAt == null || a.LastPolledAt <= notBefore))
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastPolledAt, now)) == 0)
            {
                return;
            }
            await scope.ServiceProvider.GetRequiredService<ChannelSync>().SyncAccountAsync(accountId, Events.ChangeSource.StatusPoll, UnipileHint.None, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // the caller answers from the database either way; the next poll tries again
            log.LogWarning(e, "Polling Unipile account {AccountId} failed", accountId);
        }
    }

    private sealed record Poll(DateTimeOffset StartedAt, Task Task);
}
