using System.Globalization;
using SkyLight.Api.Errors;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.RateLimiting;

/// <summary>Runs after authorization, so only requests with a valid key of an active workspace are counted.</summary>
internal sealed class RateLimitMiddleware(RequestDelegate next, FixedWindowRateLimiter limiter, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context, CurrentWorkspace workspace)
    {
        if (!workspace.IsSet)
        {
            await next(context);
            return;
        }

        var decision = limiter.Acquire(workspace.ApiKeyId);
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
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<FixedWindowRateLimiter>();
        return builder;
    }
}
