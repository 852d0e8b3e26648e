using Microsoft.AspNetCore.Diagnostics;

namespace SkyLight.Api.Errors;

/// <summary>
/// Logs a failed request under the same request id the response carries in <c>X-Request-Id</c>, then
/// lets the exception handler write the envelope. Client mistakes the server caught (bad JSON, too large)
/// are not errors of ours and are logged quietly.
/// </summary>
internal sealed class UnhandledExceptionLogger(ILogger<UnhandledExceptionLogger> log) : IExceptionHandler
{
    public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException bad)
        {
            if (log.IsEnabled(LogLevel.Debug))
            {
                log.LogDebug("Request {RequestId} rejected with {Status}: {Reason}", httpContext.TraceIdentifier, bad.StatusCode, bad.Message);
            }
        }
        else
        {
            log.LogError(exception, "Request {RequestId} failed with an unhandled exception", httpContext.TraceIdentifier);
        }
        return ValueTask.FromResult(false);
    }
}
