namespace SkyLight.Sdk;

/// <summary>Outreach campaigns: draft → running ⇄ paused, cancelled from any state that is not final.</summary>
public sealed class CampaignsClient
{
    private readonly ApiTransport _transport;

    internal CampaignsClient(ApiTransport transport) => _transport = transport;

    /// <summary>Creates a draft campaign on one of the workspace's channels.</summary>
    public Task<Campaign> CreateAsync(string name, int channelId, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<Campaign>(HttpMethod.Post, "api/v1/campaigns", new { name, channel_id = channelId }, cancellationToken);

    /// <summary>One page of campaigns, newest first, optionally of one status.</summary>
    public async Task<CampaignPage> ListAsync(string? status = null, int page = 1, int perPage = 15, CancellationToken cancellationToken = default)
    {
        var query = $"api/v1/campaigns?page={page}&per_page={perPage}" + (status is null ? "" : $"&status={Uri.EscapeDataString(status)}");
        return await _transport.PageAsync<Campaign, CampaignPage>(query, (items, current, last, size, total) => new CampaignPage(items, current, last, size, total),
            "a page of campaigns", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every campaign (optionally of one status), page after page.</summary>
    public async IAsyncEnumerable<Campaign> ListAllAsync(string? status = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var page = 1; ; page++)
        {
            var campaigns = await ListAsync(status, page, 100, cancellationToken).ConfigureAwait(false);
            foreach (var campaign in campaigns.Items)
            {
                yield return campaign;
            }
            if (page >= campaigns.LastPage)
            {
                yield break;
            }
        }
    }

    /// <summary>One campaign; 404 when it is not this workspace's.</summary>
    public Task<Campaign> GetAsync(int id, CancellationToken cancellationToken = default) =>
        _transport.DataAsync<Campaign>(HttpMethod.Get, $"api/v1/campaigns/{id}", null, cancellationToken);

    /// <summary>draft or paused → running (its channel must be connected).</summary>
    public Task<Campaign> StartAsync(int id, CancellationToken cancellationToken = default) => MoveAsync(id, "start", cancellationToken);

    /// <summary>running → paused.</summary>
    public Task<Campaign> PauseAsync(int id, CancellationToken cancellationToken = default) => MoveAsync(id, "pause", cancellationToken);

    /// <summary>paused → running.</summary>
    public Task<Campaign> ResumeAsync(int id, CancellationToken cancellationToken = default) => MoveAsync(id, "resume", cancellationToken);

    /// <summary>Any state that is not final → cancelled.</summary>
    public Task<Campaign> CancelAsync(int id, CancellationToken cancellationToken = default) => MoveAsync(id, "cancel", cancellationToken);

    private Task<Campaign> MoveAsync(int id, string action, CancellationToken cancellationToken) =>
        _transport.DataAsync<Campaign>(HttpMethod.Post, $"api/v1/campaigns/{id}/{action}", null, cancellationToken);
}
