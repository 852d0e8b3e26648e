using Microsoft.AspNetCore.Diagnostics;
using SkyLight.Api.Unipile;

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
            log.LogDebug("Request {RequestId} rejected with {Status}: {Reason}", httpContext.TraceIdentifier, bad.StatusCode, bad.Message);
        }
        else if (exception is Channels.ConcurrentChangeException)
        {
            // a request that lost a race and says so (409): expected, not a failure of ours
            log.LogInformation("Request {RequestId} lost a race: {Reason}", httpContext.TraceIdentifier, exception.Message);
        }
        else if (exception is UnipileException unipile)
        {
            // not our bug, and its message carries no secrets: Unipile's status, type and title
            log.LogWarning("Request {RequestId} failed at Unipile: {Reason}", httpContext.TraceIdentifier, unipile.Message);
        }
        else
        {
            log.LogError(exception, "Request {RequestId} failed with an unhandled exception", httpContext.TraceIdentifier);
        }
        return ValueTask.FromResult(false);
    }
}
