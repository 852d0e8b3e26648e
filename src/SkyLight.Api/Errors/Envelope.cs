using System.Text.Json.Serialization;

namespace SkyLight.Api.Errors;

/// <summary>The SkyLight success shape: <c>{"success": true, "data": ..., "message": ...}</c>.</summary>
internal sealed record Envelope<T>(T Data, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message = null)
{
    [JsonPropertyOrder(-1)]
    public bool Success { get; } = true;
}

internal static class Envelope
{
    public static Envelope<T> Of<T>(T data, string? message = null) => new(data, message);
}

/// <summary>A success that carries only a message, like the seed's resend answer.</summary>
internal sealed record MessageEnvelope(string Message)
{
    [JsonPropertyOrder(-1)]
    public bool Success { get; } = true;
}

/// <summary>The SkyLight error shape. Written only by <see cref="EnvelopeProblemWriter"/>.</summary>
internal sealed record ErrorEnvelope(string Message)
{
    [JsonPropertyOrder(-1)]
    public bool Success { get; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IDictionary<string, string[]>? Errors { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RetryAfter { get; init; }
}
