using System.Diagnostics.Metrics;
using SkyLight.Api.Channels.Events;

namespace SkyLight.Api.Observability;

/// <summary>
/// The service's own instruments (meter <see cref="MeterName"/>), counted on the node that did the work, so a sum over
/// nodes is the service's total. Labels are bounded sets (channel type, event, reason, outcome, queue): never a workspace,
/// key or account, so a label can neither leak a tenant nor grow without bound.
/// </summary>
internal sealed class SkyLightMetrics
{
    public const string MeterName = "SkyLight.Channels";

    /// <summary>Buckets for durations in seconds: Unipile answers in tens of milliseconds, a login in seconds.</summary>
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter<long> _connectAttempts;
    private readonly Counter<long> _channelEvents;
    private readonly Histogram<double> _unipileCalls;
    private readonly Counter<long> _webhooksReceived;
    private readonly Counter<long> _queueItems;
    private readonly Counter<long> _rateLimitRefusals;
    private readonly Counter<long> _statusReads;

    public Meter Meter { get; }

    public SkyLightMetrics(IMeterFactory meters)
    {
        var meter = Meter = meters.Create(MeterName);
        _connectAttempts = meter.CreateCounter<long>("skylight.connect.attempts", "{attempt}",
            "Login attempts by channel type, outcome (started, completed, failed, expired) and reason");
        _channelEvents = meter.CreateCounter<long>("skylight.channel.events", "{event}",
            "Channel events committed to the journal by channel type and event");
        _unipileCalls = meter.CreateHistogram("skylight.unipile.call.duration", "s",
            "Calls to Unipile by operation and outcome, retries included, and how long each took",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _webhooksReceived = meter.CreateCounter<long>("skylight.unipile.webhooks.received", "{webhook}",
            "Webhooks from Unipile stored in the inbox (answered 200)");
        _queueItems = meter.CreateCounter<long>("skylight.queue.items", "{item}",
            "Tries of queue items by queue and outcome (done, retry, set_aside)");
        _rateLimitRefusals = meter.CreateCounter<long>("skylight.rate_limit.refusals", "{request}",
            "Requests refused with 429 by limit (requests per key, streams per key)");
        _statusReads = meter.CreateCounter<long>("skylight.status.reads", "{read}",
            "Channel status reads by where they were answered from (memory, database)");
    }

    /// <summary>Counts what a transaction of this node wrote to the journal, once it committed.</summary>
    public void Committed(IReadOnlyList<ChannelEvent> events)
    {
        foreach (var channelEvent in events)
        {
            var type = new KeyValuePair<string, object?>("channel.type", channelEvent.ChannelType);
            _channelEvents.Add(1, type, new("event", EventNames.Of(channelEvent.Type)));
            if (AttemptOutcome(channelEvent.Type) is { } outcome)
            {
                _connectAttempts.Add(1, type, new("outcome", outcome), new("reason", channelEvent.Reason is { } reason ? EventNames.Of(reason) : "none"));
            }
        }
    }

    private static string? AttemptOutcome(ChannelEventType type) => type switch
    {
        ChannelEventType.ConnectStarted => "started",
        ChannelEventType.Connected => "completed",
        ChannelEventType.ConnectFailed => "failed",
        ChannelEventType.ConnectExpired => "expired",
        _ => null,
    };

    public void UnipileCall(string operation, string outcome, TimeSpan took) =>
        _unipileCalls.Record(took.TotalSeconds, new KeyValuePair<string, object?>("operation", operation), new("outcome", outcome));

    public void WebhookReceived() => _webhooksReceived.Add(1);

    public void QueueItem(string queue, Hosting.Settled outcome) =>
        _queueItems.Add(1, new KeyValuePair<string, object?>("queue", queue), new("outcome", outcome switch
        {
            Hosting.Settled.Done => "done",
            Hosting.Settled.Retry => "retry",
            _ => "set_aside",
        }));

    public void RateLimitRefused(string limit) => _rateLimitRefusals.Add(1, new KeyValuePair<string, object?>("limit", limit));

    public void StatusRead(bool fromMemory) =>
        _statusReads.Add(1, new KeyValuePair<string, object?>("source", fromMemory ? "memory" : "database"));
}
