using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace SkyLight.Api.Workspaces;

/// <summary>
/// A workspace's credential. Only the SHA-256 of the key is kept; the clear key exists once, in the
/// answer to whoever created it.
/// </summary>
internal sealed class ApiKey
{
    public const string KeyPrefix = "sk_live_";
    private const int RandomLength = 40;
    private const int DisplayLength = 8;   // 62^8 makes prefix collisions between live keys unlikely
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<char> Base62Chars = SearchValues.Create(Base62);

    public int Id { get; set; }
    public int WorkspaceId { get; set; }
    public Workspace Workspace { get; set; } = null!;
    public required byte[] Hash { get; init; }
    public required string Prefix { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Creates a key for the workspace and returns it with the clear text to show once.</summary>
    public static (ApiKey Key, string Secret) Issue(DateTimeOffset now)
    {
        var secret = KeyPrefix + RandomNumberGenerator.GetString(Base62, RandomLength);
        var key = new ApiKey { Hash = HashOf(secret), Prefix = secret[..(KeyPrefix.Length + DisplayLength)], CreatedAt = now };
        return (key, secret);
    }

    public static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool LooksLikeKey(string value) =>
        value.Length == KeyPrefix.Length + RandomLength &&
        value.StartsWith(KeyPrefix, StringComparison.Ordinal) &&
        value.AsSpan(KeyPrefix.Length).IndexOfAnyExcept(Base62Chars) < 0;
}
