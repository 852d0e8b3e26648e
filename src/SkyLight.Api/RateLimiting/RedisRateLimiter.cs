using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SkyLight.Api.RateLimiting;

/// <summary>
/// The same fixed windows, counted in Redis so every node shares one count per key. If Redis cannot be reached
/// the node counts on its own for that request (logged) rather than failing the API.
/// </summary>
internal sealed class RedisRateLimiter(IConnectionMultiplexer redis, FixedWindowRateLimiter fallback, TimeProvider time,
    IOptions<RateLimitingOptions> options, ILogger<RedisRateLimiter> log) : IRateLimiter
{
    // INCR and the window's expiry in one step, so a crash between them cannot leave a key that never expires
    private const string CountScript = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

    public async Task<RateLimitDecision> AcquireAsync(int apiKeyId)
    {
        var now = time.GetUtcNow();
        var (index, windowMs) = RateLimitWindow.Current(now, options.Value);
        try
        {
            var count = (long)await redis.GetDatabase().ScriptEvaluateAsync(CountScript,
                [new RedisKey($"{options.Value.RedisKeyPrefix}ratelimit:{apiKeyId}:{index}")], [windowMs]);
            return RateLimitWindow.Decide(now, index, windowMs, count, options.Value.PermitLimit);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning("Redis is unreachable ({Reason}); rate limit counted on this node only", e.Message);
            return fallback.Acquire(apiKeyId);
        }
    }
}
