using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;

namespace SkyLight.Api.Hosting;

/// <summary>
/// A job that runs every <see cref="ChannelsOptions.JobInterval"/>, or at once when woken (a webhook arrived,
/// a deletion was queued: see LeasedQueue). All its work is in <see cref="RunOnceAsync"/>, which tests call directly. A failed
/// run is logged and the loop carries on.
/// </summary>
internal abstract class BackgroundLoop(TimeProvider time, IOptions<ChannelsOptions> options, ILogger log) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected TimeProvider Time { get; } = time;

    protected ChannelsOptions Options => options.Value;

    protected ILogger Log => log;

    /// <summary>When the <paramref name="attempt"/>-th retry is due: the base delay, doubled each time, at most 10 minutes.</summary>
    protected DateTimeOffset RetryAt(int attempt)
    {
        var delay = options.Value.RetryBaseDelay * Math.Pow(2, Math.Min(attempt - 1, 16));
        return Time.GetUtcNow() + (delay < TimeSpan.FromMinutes(10) ? delay : TimeSpan.FromMinutes(10));
    }

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already woken; the next run sees this work too
        }
    }

    /// <summary>How long the loop sleeps between runs unless woken.</summary>
    protected virtual TimeSpan Interval => options.Value.JobInterval;

    /// <summary>False for a job that should first run one interval after start.</summary>
    protected virtual bool RunsAtStart => true;

    /// <summary>
    /// True for a queue: a run that found work is followed at once by another, so a burst larger than one batch
    /// drains without waiting for ticks. False for a job that does everything in one run (the health pass).
    /// </summary>
    protected virtual bool Drains => true;

    /// <summary>Does the due work; returns how many items it handled.</summary>
    public abstract Task<int> RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var run = RunsAtStart; !stoppingToken.IsCancellationRequested; run = true)
        {
            if (run)
            {
                try
                {
                    if (await RunOnceAsync(stoppingToken) > 0 && Drains)
                    {
                        continue;
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogError(e, "{Job} run failed", GetType().Name);
                }
            }

            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(Task.Delay(Interval, Time, sleep.Token), _wake.WaitAsync(sleep.Token));
            await sleep.CancelAsync();
        }
    }
}
