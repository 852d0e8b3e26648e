using System.Security.Cryptography;
using System.Text;

namespace SkyLight.Api.Connect;

/// <summary>
/// A link an integrator hands to its end user: the hosted connect page for one channel type of one workspace. Its
/// token is shown once and kept only as a SHA-256 hash, like an API key. It stops working when it expires, when it is
/// revoked, or once the channel connected through it.
/// </summary>
internal sealed class ConnectLink
{
    public Guid Id { get; init; }
    public int WorkspaceId { get; init; }
    public required string ChannelType { get; init; }
    public required string TokenHash { get; init; }
    public string? SuccessRedirectUrl { get; init; }
    public string? FailureRedirectUrl { get; init; }
    public string? State { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>When the channel connected through this link; it then opens only its success screen.</summary>
    public DateTimeOffset? UsedAt { get; set; }
    public int? ChannelId { get; set; }

    /// <summary>The Unipile account of the last login started through the page.</summary>
    public string? UnipileAccountId { get; set; }

    /// <summary>Instagram: the verification rounds passed in the current login, for the page's "code 2 of …".</summary>
    public int CodeRounds { get; set; }

    /// <summary>Password and code submissions in the current window: the page's brute-force brake, shared by every node.</summary>
    public int PasswordTries { get; set; }
    public int CodeTries { get; set; }
    public DateTimeOffset TriesWindowStartedAt { get; set; }

    public string Status(DateTimeOffset now) =>
        UsedAt is not null ? ConnectLinkStatuses.Used
        : RevokedAt is not null ? ConnectLinkStatuses.Revoked
        : now >= ExpiresAt ? ConnectLinkStatuses.Expired
        : ConnectLinkStatuses.Active;

    /// <summary>A new token: 32 random bytes, base64url, so the URL carries 256 bits nobody can guess.</summary>
    public static string NewToken() => Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

internal static class ConnectLinkStatuses
{
    public const string Active = "active";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
    public const string Used = "used";
}
