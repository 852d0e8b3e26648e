using System.Net;

namespace SkyLight.Api.Unipile;

/// <summary>
/// Every failure of a Unipile call: an error answer (status, Unipile's <c>type</c>, <c>title</c>, <c>detail</c>)
/// or no usable answer at all (status null, type <c>client/…</c>). Never carries request bodies or keys.
/// </summary>
internal sealed class UnipileException(HttpStatusCode? statusCode, string type, string title, string? detail, Exception? innerException = null)
    : Exception($"Unipile {(statusCode is { } s ? ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : "call")} failed: {type} ({title}){(detail is null ? "" : $": {detail}")}", innerException)
{
    public const string Timeout = "client/timeout";
    public const string Unreachable = "client/unreachable";
    public const string CircuitOpen = "client/circuit_open";
    public const string UnexpectedResponse = "client/unexpected_response";

    public HttpStatusCode? StatusCode { get; } = statusCode;

    /// <summary>Unipile's error type, e.g. <c>errors/invalid_credentials</c>, or one of the <c>client/…</c> constants.</summary>
    public string Type { get; } = type;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;

    public bool Is(HttpStatusCode status, string? type = null) => StatusCode == status && (type is null || Type == type);
}
