namespace SkyLight.Api.Errors;

internal static class ErrorMessages
{
    public const string Unauthenticated = "Unauthenticated. Please provide a valid API key.";
    public const string Unexpected = "An unexpected error occurred. Please try again later.";
    public const string TooManyRequests = "Too many requests. Please slow down.";
    public const string InvalidData = "The given data was invalid.";
    public const string InvalidJson = "The request body is not valid JSON.";

    /// <summary>The message for a status when the code that produced it gave none.</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is malformed.",
        StatusCodes.Status401Unauthorized => Unauthenticated,
        StatusCodes.Status403Forbidden => "This workspace is inactive.",
        StatusCodes.Status404NotFound => "The requested resource was not found.",
        StatusCodes.Status405MethodNotAllowed => "This HTTP method is not allowed on this endpoint.",
        StatusCodes.Status409Conflict => "The request conflicts with the current state of the resource.",
        StatusCodes.Status413PayloadTooLarge => $"The request body is too large. The limit is {RequestLimits.MaxBodyBytes / 1024} KiB.",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported content type. Send the body as UTF-8 JSON (application/json).",
        StatusCodes.Status422UnprocessableEntity => InvalidData,
        StatusCodes.Status429TooManyRequests => TooManyRequests,
        StatusCodes.Status502BadGateway => "The messaging provider (Unipile) returned an error. Please try again.",
        StatusCodes.Status503ServiceUnavailable => "The messaging provider (Unipile) is temporarily unavailable. Please try again shortly.",
        StatusCodes.Status504GatewayTimeout => "The messaging provider (Unipile) did not respond in time. Please try again.",
        >= 500 and < 600 => Unexpected,
        _ => $"The request failed with status {status}.",
    };
}
