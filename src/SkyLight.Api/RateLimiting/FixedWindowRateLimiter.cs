using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.RateLimiting;

internal readonly record struct RateLimitDecision(bool Allowed, int Limit, int Remaining, DateTimeOffset ResetAt, int RetryAfterSeconds);

/// <summary>
/// Counts requests per API key in fixed windows aligned to the Unix epoch, so every response can say
/// exactly when the window resets. Per process: each node counts its own traffic.
/// </summary>
internal sealed class FixedWindowRateLimiter(TimeProvider time, IOptions<RateLimitingOptions> options)
{
    private const int SweepThreshold = 10_000;
    private readonly ConcurrentDictionary<int, Window> _windows = new();

    public RateLimitDecision Acquire(int apiKeyId)
    {
        var limit = options.Value.PermitLimit;
        var windowMs = (long)options.Value.Window.TotalMilliseconds;
        var now = time.GetUtcNow();
        var index = now.ToUnixTimeMilliseconds() / windowMs;

        var window = _windows.AddOrUpdate(apiKeyId,
            static (_, index) => new Window(index, 1),
            static (_, current, index) => current.Index == index ? current with { Count = current.Count + 1 } : new Window(index, 1),
            index);
        if (_windows.Count > SweepThreshold)
        {
            Sweep(index);
        }

        var resetAt = DateTimeOffset.FromUnixTimeMilliseconds((index + 1) * windowMs);
        var retryAfter = (int)Math.Ceiling((resetAt - now).TotalSeconds);
        return new RateLimitDecision(window.Count <= limit, limit, Math.Max(0, limit - window.Count), resetAt, Math.Max(1, retryAfter));
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
