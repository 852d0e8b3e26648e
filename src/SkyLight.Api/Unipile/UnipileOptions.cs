using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Unipile;

internal sealed class UnipileOptions
{
    public const string Section = "Unipile";

    /// <summary>The DSN root, e.g. <c>https://api8.unipile.com:13851</c>; the client appends <c>/api/v1/...</c>.</summary>
    [Required(ErrorMessage = "Unipile:BaseUrl is required: the Unipile DSN, e.g. https://api8.unipile.com:13851. " +
        "Only in Development does an empty value start the built-in Unipile emulator.")]
    [Url]
    public string BaseUrl { get; set; } = "";

    /// <summary>Sent as <c>X-API-KEY</c>. Never logged.</summary>
    [Required]
    public string ApiKey { get; set; } = "";

    /// <summary>Unipile sends it back in the <c>Unipile-Auth</c> header of every webhook. Never logged.</summary>
    [Required]
    public string WebhookSecret { get; set; } = "";

    /// <summary>How long one attempt may take. Instagram logins run a real browser login at Unipile: allow for it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first back-off before a GET is retried (exponential with jitter after that).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether a Unipile account that a timed-out or interrupted create left behind, and that no channel, attempt or
    /// queued deletion records, may be deleted. Off by default: a DSN may be shared with other software, whose
    /// accounts look the same. Turn it on when the DSN serves this service alone (the embedded emulator does).
    /// </summary>
    public bool DeleteUnrecordedAccounts { get; set; }
}
