using System.Net;

namespace SkyLight.Sdk;

/// <summary>Any error answer of the SkyLight API: its status, its message, and its field errors or retry delay.</summary>
public sealed class SkyLightApiException : Exception
{
    /// <summary>Creates the exception from an error envelope.</summary>
    public SkyLightApiException(HttpStatusCode statusCode, string message, IReadOnlyDictionary<string, string[]>? errors = null, int? retryAfter = null)
        : base(message)
    {
        StatusCode = statusCode;
        Errors = errors ?? new Dictionary<string, string[]>();
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status of the answer (404, 409, 422, 429, 502, …).</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>On 422 validation failures: the messages by snake_case field name; empty otherwise.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>On 429: the seconds to wait before trying again.</summary>
    public int? RetryAfter { get; }
}
