using Microsoft.AspNetCore.Http.HttpResults;

namespace SkyLight.Api.Errors;

/// <summary>
/// Error results with a message of the handler's choosing. They go through the problem-details service,
/// so <see cref="EnvelopeProblemWriter"/> still writes every error body.
/// </summary>
internal static class ApiErrors
{
    public static ProblemHttpResult NotFound(string message) => TypedResults.Problem(detail: message, statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Conflict(string message) => TypedResults.Problem(detail: message, statusCode: StatusCodes.Status409Conflict);

    /// <summary>422 for a business rule (no <c>errors</c> member), e.g. a campaign holding a channel.</summary>
    public static ProblemHttpResult Unprocessable(string message) => TypedResults.Problem(detail: message, statusCode: StatusCodes.Status422UnprocessableEntity);

    /// <summary>429 with <c>retry_after</c> (the writer adds the Retry-After header).</summary>
    public static ProblemHttpResult TooManyRequests(string message, int retryAfterSeconds) =>
        TypedResults.Problem(detail: message, statusCode: StatusCodes.Status429TooManyRequests,
            extensions: new Dictionary<string, object?> { [EnvelopeProblemWriter.RetryAfterExtension] = retryAfterSeconds });

    /// <summary>422 with field errors, like a validation failure.</summary>
    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
