namespace SkyLight.Api.Channels;

/// <summary>
/// A Unipile account that must be deleted. Written in the same transaction that forgets the account
/// locally, and removed only once Unipile confirms (404 counts), so no account is ever orphaned.
/// </summary>
internal sealed class RemoteDeletion
{
    public int Id { get; set; }
    public required string UnipileAccountId { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public required DateTimeOffset NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    /// <summary>Set by the node working on it; another node takes over once it passes (the first one died).</summary>
    public DateTimeOffset? LeasedUntil { get; set; }
}
