using System.Globalization;
using System.Runtime.CompilerServices;

namespace SkyLight.Sdk;

/// <summary>The channels' journal: what changed, why, and when, across every channel type.</summary>
public sealed class ChannelsClient
{
    private readonly ApiTransport _transport;

    internal ChannelsClient(ApiTransport transport) => _transport = transport;

    /// <summary>One page of events: newest first, or oldest first after <see cref="ChannelEventQuery.After"/>.</summary>
    public Task<ChannelEventPage> GetEventsAsync(ChannelEventQuery? query = null, CancellationToken cancellationToken = default) =>
        GetEventsAsync(_transport, "api/v1/channels/events", query ?? new ChannelEventQuery(), includeType: true, cancellationToken);

    /// <summary>
    /// Follows the journal in order from the event after <paramref name="after"/> (0: from the first one kept), forever:
    /// every event once, asking again every <paramref name="pollInterval"/> (default <see cref="SkyLightClientOptions.PollInterval"/>)
    /// once it has caught up. Stop it with the cancellation token; resume later from the last id seen.
    /// </summary>
    public async IAsyncEnumerable<ChannelEvent> FollowEventsAsync(long after = 0, string? type = null, TimeSpan? pollInterval = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var page = await GetEventsAsync(new ChannelEventQuery { Type = type, After = after, PerPage = 100 }, cancellationToken).ConfigureAwait(false);
            foreach (var channelEvent in page.Items)
            {
                yield return channelEvent;
                after = channelEvent.Id;
            }
            if (page.Items.Count < 100)
            {
                await Task.Delay(pollInterval ?? _transport.Options.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The journal live, from the event stream: every event committed after this starts (or after <paramref name="after"/>,
    /// replayed first), once each, in order, until cancelled. A broken or silent connection is opened again with
    /// Last-Event-ID, so nothing is lost across it. Throws <see cref="SkyLightApiException"/> for a 4xx other than 429.
    /// </summary>
    public async IAsyncEnumerable<ChannelEvent> StreamEventsAsync(long? after = null, string? type = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await EventStream.OpenAsync(_transport, type, after, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var channelEvent in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return channelEvent;
            }
        }
    }

    /// <summary>Reads a page of a timeline: the workspace's, or one channel type's (<paramref name="includeType"/> false).</summary>
    internal static async Task<ChannelEventPage> GetEventsAsync(ApiTransport transport, string path, ChannelEventQuery query, bool includeType,
        CancellationToken cancellationToken)
    {
        var url = string.Create(CultureInfo.InvariantCulture, $"{path}?page={query.Page}&per_page={query.PerPage}") +
            (query.After is { } after ? string.Create(CultureInfo.InvariantCulture, $"&after={after}") : "") +
            (includeType && query.Type is { } type ? $"&type={Uri.EscapeDataString(type)}" : "");
        return await transport.PageAsync<ChannelEvent, ChannelEventPage>(url, (items, current, last, size, total) => new ChannelEventPage(items, current, last, size, total),
            "a page of channel events", cancellationToken).ConfigureAwait(false);
    }
}
