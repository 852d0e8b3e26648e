using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace SkyLight.Api.Notifications;

/// <summary>
/// Makes, keeps and uses endpoint secrets. A secret is shown once, when it is made; rows hold it only as Data Protection
/// ciphertext, whose key ring lives in the database so that every node can sign (see <see cref="NotificationsSetup"/>).
/// </summary>
internal sealed class WebhookSecrets(IDataProtectionProvider protection)
{
    public const string Prefix = "whsec_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private readonly IDataProtector _protector = protection.CreateProtector("SkyLight.Webhooks.EndpointSecret.v1");

    /// <summary>A new secret: <c>whsec_</c> and 40 base62 characters (238 bits).</summary>
    public static string New() => Prefix + RandomNumberGenerator.GetString(Base62, 40);

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>
    /// The <c>X-Skylight-Signature</c> value: <c>sha256=</c> and the hex HMAC-SHA256 of the raw body, keyed with the
    /// secret's UTF-8 bytes, once per secret given, comma-separated in the order given (the newest first).
    /// </summary>
    public static string Signature(byte[] body, IEnumerable<string> secrets) =>
        string.Join(',', secrets.Select(secret => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body))));

    /// <summary>The secrets that sign now: the current one, and the previous one until its grace period ends.</summary>
    public IReadOnlyList<string> SigningSecrets(WebhookEndpoint endpoint, DateTimeOffset now) =>
        endpoint is { ProtectedPreviousSecret: { } previous, PreviousSecretExpiresAt: { } expires } && now < expires
            ? [Unprotect(endpoint.ProtectedSecret), Unprotect(previous)]
            : [Unprotect(endpoint.ProtectedSecret)];
}
