using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.Errors;

/// <summary>
/// The one place an error body is written. Status-code pages, the exception handler, validation and the
/// rate limiter all hand the framework a ProblemDetails; this writer turns every one of them into the
/// SkyLight envelope, so no handler builds error JSON and no error escapes in another shape.
/// </summary>
internal sealed class EnvelopeProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string RetryAfterExtension = "retry_after";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var response = context.HttpContext.Response;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? response.StatusCode;

        var errors = problem is HttpValidationProblemDetails validation ? SnakeCase(validation.Errors) : WrongTypeError(context.Exception);
        if (errors is not null)
        {
            status = StatusCodes.Status422UnprocessableEntity;   // validation is 422 in SkyLight, never 400
        }

        response.StatusCode = status;
        var retryAfter = problem.Extensions.TryGetValue(RetryAfterExtension, out var retry) && retry is int seconds ? seconds : (int?)null;
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var envelope = new ErrorEnvelope(MessageFor(status, problem.Detail, context.Exception))
        {
            Errors = errors,
            RetryAfter = retryAfter,
        };
        return new ValueTask(response.WriteAsJsonAsync(envelope, json.Value.SerializerOptions, contentType: "application/json; charset=utf-8"));
    }

    private static string MessageFor(int status, string? detail, Exception? exception) => status switch
    {
        >= 500 => ErrorMessages.ForStatus(status),   // never exception text
        StatusCodes.Status422UnprocessableEntity when detail is null => ErrorMessages.InvalidData,
        StatusCodes.Status400BadRequest when exception?.InnerException is JsonException => ErrorMessages.InvalidJson,
        StatusCodes.Status409Conflict when exception is Channels.ConcurrentChangeException => exception.Message,
        _ when exception is null && !string.IsNullOrEmpty(detail) => detail,
        _ => ErrorMessages.ForStatus(status),
    };

    /// <summary>
    /// Well-formed JSON with a value of the wrong type (<c>{"username": 123}</c>, <c>{"channel_id": 1.5}</c>) is a
    /// validation failure of that field, not a malformed body. System.Text.Json tells them apart by what it wraps: a
    /// conversion failure is an InvalidOperationException (a token of another kind), a FormatException (a number
    /// that does not fit the type) or nothing (its own "could not be converted"); a body that is not JSON wraps the
    /// reader's JsonException, and invalid UTF-8 inside a string a DecoderFallbackException.
    /// </summary>
    private static Dictionary<string, string[]>? WrongTypeError(Exception? exception) =>
        exception is BadHttpRequestException { InnerException: JsonException { Path: ['$', '.', .. var field], InnerException: var cause } }
            && cause is null or FormatException or InvalidOperationException { InnerException: not DecoderFallbackException }
            ? new Dictionary<string, string[]> { [field] = [$"The {field} field has the wrong type."] }
            : null;

    private static Dictionary<string, string[]> SnakeCase(IDictionary<string, string[]> errors) =>
        errors.GroupBy(e => SnakeCase(e.Key))
            .ToDictionary(g => g.Key, g => g.SelectMany(e => e.Value).ToArray());

    private static string SnakeCase(string path) =>
        string.Join('.', path.Split('.').Select(segment => JsonNamingPolicy.SnakeCaseLower.ConvertName(segment)));
}
