using System.Globalization;
using StackExchange.Redis;
using SkyLight.Api.Errors;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.RateLimiting;

/// <summary>Runs after authorization, so only requests with a valid key of an active workspace are counted.</summary>
internal sealed class RateLimitMiddleware(RequestDelegate next, IRateLimiter limiter, IProblemDetailsService problems, Observability.SkyLightMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context, CurrentWorkspace workspace)
    {
        if (!workspace.IsSet)
        {
            await next(context);
            return;
        }

        var decision = await limiter.AcquireAsync(workspace.ApiKeyId);
        // on starting, so error responses (whose headers the exception handler clears) carry them too
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
            headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
            headers["X-RateLimit-Reset"] = decision.ResetAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        if (decision.Allowed)
        {
            await next(context);
            return;
        }

        metrics.RateLimitRefused("requests_per_key");
        context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Extensions = { [EnvelopeProblemWriter.RetryAfterExtension] = decision.RetryAfterSeconds } },
        });
    }
}

internal static class RateLimitingSetup
{
    public static WebApplicationBuilder AddRateLimiting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section)
            .Configure<IConfiguration>((options, configuration) => options.RedisKeyPrefix = configuration["Redis:InstanceName"] ?? options.RedisKeyPrefix)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<FixedWindowRateLimiter>();
        if (builder.Configuration["Redis:Configuration"] is { Length: > 0 } redis)
        {
            // shared by every node; connects in the background and retries, so a Redis outage never stops start-up
            var redisOptions = ConfigurationOptions.Parse(redis);
            redisOptions.AbortOnConnectFail = false;
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisOptions));
            builder.Services.AddSingleton<IRateLimiter, RedisRateLimiter>();
        }
        else
        {
            builder.Services.AddSingleton<IRateLimiter>(services => services.GetRequiredService<FixedWindowRateLimiter>());
        }
        return builder;
    }
}
