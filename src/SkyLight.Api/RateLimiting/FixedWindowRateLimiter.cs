using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.RateLimiting;

internal readonly record struct RateLimitDecision(bool Allowed, int Limit, int Remaining, DateTimeOffset ResetAt, int RetryAfterSeconds);

/// <summary>Counts requests per API key in fixed windows aligned to the Unix epoch, so every response can say when the window resets.</summary>
internal interface IRateLimiter
{
    Task<RateLimitDecision> AcquireAsync(int apiKeyId);
}

/// <summary>The window arithmetic both counters share.</summary>
internal static class RateLimitWindow
{
    public static (long Index, long WindowMs) Current(DateTimeOffset now, RateLimitingOptions options)
    {
        var windowMs = (long)options.Window.TotalMilliseconds;
        return (now.ToUnixTimeMilliseconds() / windowMs, windowMs);
    }

    public static RateLimitDecision Decide(DateTimeOffset now, long index, long windowMs, long count, int limit)
    {
        var resetAt = DateTimeOffset.FromUnixTimeMilliseconds((index + 1) * windowMs);
        var retryAfter = (int)Math.Ceiling((resetAt - now).TotalSeconds);
        return new RateLimitDecision(count <= limit, limit, (int)Math.Max(0, limit - count), resetAt, Math.Max(1, retryAfter));
    }
}

/// <summary>Per process: each node counts its own traffic. <see cref="RedisRateLimiter"/> shares the count.</summary>
internal sealed class FixedWindowRateLimiter(TimeProvider time, IOptions<RateLimitingOptions> options) : IRateLimiter
{
    private const int SweepThreshold = 10_000;
    private readonly ConcurrentDictionary<int, Window> _windows = new();

    public Task<RateLimitDecision> AcquireAsync(int apiKeyId) => Task.FromResult(Acquire(apiKeyId));

    public RateLimitDecision Acquire(int apiKeyId)
    {
        var now = time.GetUtcNow();
        var (index, windowMs) = RateLimitWindow.Current(now, options.Value);
        var window = _windows.AddOrUpdate(apiKeyId,
            static (_, index) => new Window(index, 1),
            static (_, current, index) => current.Index == index ? current with { Count = current.Count + 1 } : new Window(index, 1),
            index);
        if (_windows.Count > SweepThreshold)
        {
            Sweep(index);
        }
        return RateLimitWindow.Decide(now, index, windowMs, window.Count, options.Value.PermitLimit);
    }

    private void Sweep(long currentIndex)
    {
        foreach (var (key, window) in _windows)
        {
            if (window.Index < currentIndex)
            {
                _windows.TryRemove(new KeyValuePair<int, Window>(key, window));
            }
        }
    }

    private sealed record Window(long Index, int Count);
}
