namespace SkyLight.Api.Idempotency;

/// <summary>
/// One Idempotency-Key of a workspace, for one method and path: claimed by the request that runs (until its lease
/// lapses, should its node die), then the outcome that request answered, replayed to every repeat until it expires.
/// </summary>
internal sealed class IdempotencyRecord
{
    public long Id { get; set; }
    public int WorkspaceId { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public required string Key { get; init; }

    /// <summary>SHA-256 of the request body's canonical JSON (or of its bytes, when it is not JSON).</summary>
    public required string Fingerprint { get; set; }

    /// <summary>While the first request runs: when its claim lapses. Null once its outcome is stored.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }

    public int? StatusCode { get; set; }
    public string? ContentType { get; set; }
    public string? Location { get; set; }
    public byte[]? Body { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the record is forgotten: the retention after its outcome (or its claim) was written.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public bool IsDone => StatusCode is not null;
}
