using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>
/// A Unipile account that must be deleted. Written in the same transaction that forgets the account
/// locally, and removed only once Unipile confirms (404 counts), so no account is ever orphaned.
/// </summary>
internal sealed class RemoteDeletion : IQueueItem
{
    public long Id { get; set; }
    public required string UnipileAccountId { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public required DateTimeOffset NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? LeasedUntil { get; set; }
    public DateTimeOffset? SetAsideAt { get; set; }
}
