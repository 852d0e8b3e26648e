using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace SkyLight.Api.Errors;

/// <summary>
/// JSON bodies are UTF-8. The framework compares the charset of a JSON request to <c>utf-8</c> as written, hands any
/// other value (<c>"utf-8"</c> quoted, <c>utf8</c>, <c>foo</c>, an empty one) to <c>Encoding.GetEncoding</c> and throws
/// for the ones .NET does not know: a 500. Here every spelling of UTF-8 is rewritten to that one, and any other
/// charset is a 415 before the body is bound. Requests without a body are left alone, and so is Unipile's webhook,
/// which is stored as received whatever it says: a refused webhook would be retried by Unipile and then lost.
/// </summary>
internal sealed class Utf8JsonOnly(RequestDelegate next)
{
    private const string Charset = "charset";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: false } &&
            !request.Path.StartsWithSegments(Webhooks.UnipileWebhookApi.Path, StringComparison.Ordinal) &&
            request.HasJsonContentType() && MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.Charset.HasValue)
        {
            if (!IsUtf8(HeaderUtilities.RemoveQuotes(type.Charset)) ||
                type.Parameters.Count(p => p.Name.Equals(Charset, StringComparison.OrdinalIgnoreCase)) > 1)
            {
                throw new BadHttpRequestException("The JSON body is not in UTF-8.", StatusCodes.Status415UnsupportedMediaType);
            }
            type.Charset = "utf-8";
            request.ContentType = type.ToString();
        }
        return next(context);
    }

    private static bool IsUtf8(StringSegment charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
}
