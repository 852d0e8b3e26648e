using Microsoft.Extensions.Options;
using SkyLight.Api.Channels;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Hosting;

/// <summary>
/// Re-reads the cached keys and channels in use twice per <see cref="CacheOptions.MaxAge"/>, in bulk, so they are
/// fresh when asked for and a request almost never waits on the database. If the database is away, entries age out
/// and requests read (and fail) on their own: nothing is ever served older than the bound.
/// </summary>
internal sealed class CacheRefresher(ApiKeyCache keys, ChannelReadModel channels, TimeProvider time, IOptions<CacheOptions> options,
    ILogger<CacheRefresher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.MaxAge / 2;
        if (interval <= TimeSpan.Zero)
        {
            return;   // caches off
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                var started = time.GetTimestamp();
                await keys.RefreshAsync(stoppingToken);
                await channels.RefreshAsync(stoppingToken);
                if (time.GetElapsedTime(started) > interval)
                {
                    log.LogWarning("Refreshing the caches took {Elapsed} ms", time.GetElapsedTime(started).TotalMilliseconds);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Refreshing the caches failed; their entries age out and are read again on use");
            }
        }
    }
}
