using Microsoft.AspNetCore.Http.Features;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Errors;

internal static class ErrorHandling
{
    public const string RequestIdHeader = "X-Request-Id";

    public static WebApplicationBuilder AddErrorEnvelope(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IProblemDetailsWriter, EnvelopeProblemWriter>();   // before AddProblemDetails: it wins
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<UnhandledExceptionLogger>();
        builder.Services.Configure<ExceptionHandlerOptions>(options =>
        {
            options.StatusCodeSelector = e => e switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                UnipileException { Type: UnipileException.Timeout } => StatusCodes.Status504GatewayTimeout,
                UnipileException { Type: UnipileException.CircuitOpen } => StatusCodes.Status503ServiceUnavailable,
                UnipileException => StatusCodes.Status502BadGateway,
                Channels.ConcurrentChangeException => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status500InternalServerError,
            };
            options.SuppressDiagnosticsCallback = _ => true;   // UnhandledExceptionLogger already logged it, with the request id
        });
        // Malformed bodies and wrong content types become exceptions, so the envelope can say which it was.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    public static WebApplication UseErrorEnvelope(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // on starting, not now: the exception handler clears headers before it writes the 500
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                http.Response.Headers[RequestIdHeader] = http.TraceIdentifier;
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestLimits>();
        app.UseMiddleware<Utf8JsonOnly>();   // a JSON body in another charset is a 415, never a 500
        return app;
    }
}

/// <summary>Rejects oversized bodies up front: Kestrel enforces the same limit while reading, but the test server does not.</summary>
internal sealed class RequestLimits(RequestDelegate next)
{
    public const int MaxBodyBytes = 64 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }
        return next(context);
    }
}
