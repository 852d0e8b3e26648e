namespace SkyLight.Api.Channels;

/// <summary>
/// The durable intent to create a Unipile account, committed before the create call. The row goes away in the
/// transaction that records (or forgets) the account Unipile answered with; a row that outlives its call (the
/// answer came too late, or the node died) is reconciled against Unipile's account list by
/// <see cref="CreationReconciler"/>, so an account Unipile made is never left untracked.
/// </summary>
internal sealed class AccountCreation
{
    public long Id { get; set; }
    public int WorkspaceId { get; init; }
    public required string ChannelType { get; init; }

    /// <summary>Unipile's account type (WHATSAPP, TELEGRAM, INSTAGRAM): what a matching account must be.</summary>
    public required string Provider { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
}
