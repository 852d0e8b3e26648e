using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Connect;

/// <summary>Connect links and the hosted connect page.</summary>
internal sealed class ConnectOptions
{
    public const string Section = "Connect";

    /// <summary>
    /// Where end users reach this service (links are this + /connect/…). Empty: SkyLight:PublicBaseUrl, else the address
    /// the request that created the link came to.
    /// </summary>
    [Url]
    public string? PageBaseUrl { get; set; }

    /// <summary>Password submissions one link's page may make per <see cref="TriesWindow"/>.</summary>
    [Range(1, 1000)]
    public int PasswordTries { get; set; } = 5;

    /// <summary>Verification-code submissions one link's page may make per <see cref="TriesWindow"/>.</summary>
    [Range(1, 1000)]
    public int CodeTries { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan TriesWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Links a workspace may hold that are neither expired, revoked nor used.</summary>
    [Range(1, 100_000)]
    public int MaxActiveLinksPerWorkspace { get; set; } = 100;
}
