namespace SkyLight.Api.Channels;

/// <summary>
/// One login attempt at Unipile: a QR waiting for a scan (or Instagram codes). At most one is pending per
/// workspace and channel type, which a filtered unique index enforces in the database.
/// </summary>
internal sealed class ConnectAttempt
{
    public int Id { get; set; }
    public int WorkspaceId { get; set; }
    public int ChannelId { get; set; }
    public Channel Channel { get; set; } = null!;
    public required string ChannelType { get; init; }
    public required string UnipileAccountId { get; init; }
    public string? QrCode { get; set; }

    /// <summary>Instagram: the checkpoint Unipile waits on (OTP, 2FA, …).</summary>
    public string? CheckpointType { get; set; }

    /// <summary>Instagram: when the code was last resent, for the resend cooldown shared by every node.</summary>
    public DateTimeOffset? LastResendAt { get; set; }

    /// <summary>When a node last asked Unipile about this pending account: the poll interval holds across nodes.</summary>
    public DateTimeOffset? LastPolledAt { get; set; }

    /// <summary>A reconnect of the channel's own Unipile account; failing it must not delete that account.</summary>
    public bool IsReconnect { get; init; }
    public string State { get; set; } = AttemptStates.Pending;
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? EndedAt { get; set; }

    public bool IsPending => State == AttemptStates.Pending;

    /// <summary>Ends the attempt in <paramref name="state"/>; an ended attempt's QR is never shown again.</summary>
    public void End(string state, DateTimeOffset now)
    {
        State = state;
        EndedAt = now;
        QrCode = null;
    }
}

internal static class AttemptStates
{
    public const string Pending = "pending";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}
