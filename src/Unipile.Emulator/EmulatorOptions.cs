using System.ComponentModel.DataAnnotations;

namespace Unipile.Emulator;

public sealed class EmulatorOptions : IValidatableObject
{
    public const string Section = "Emulator";

    /// <summary>The X-API-KEY clients must send.</summary>
    [Required]
    public string ApiKey { get; set; } = "emulator-key";

    /// <summary>How long an authentication intent (a QR to scan, a code to enter) stays open; Unipile says 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan IntentLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Telegram confirms a scanned login asynchronously: CREATION_SUCCESS at once, OK this much later.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan TelegramConfirmDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Waits before each retry of a webhook the receiver did not answer with exactly 200 (Unipile retries 5 times).</summary>
    public List<TimeSpan> WebhookRetryDelays { get; set; } = [];

    /// <summary>The status of a Checkpoint answer: 202 per Unipile's guides, 201 per its reference page.</summary>
    [AllowedValues(201, 202)]
    public int CheckpointStatusCode { get; set; } = 202;

    /// <summary>Retry delays when none are configured: 1, 2, 4, 8, 16 seconds.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays =>
        WebhookRetryDelays.Count > 0 ? WebhookRetryDelays : [.. Enumerable.Range(0, 5).Select(i => TimeSpan.FromSeconds(1 << i))];

    /// <summary>Unipile retries 5 times with increasing delays; configured delays must say the same.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WebhookRetryDelays.Count > 0 &&
            (WebhookRetryDelays.Count != 5 || WebhookRetryDelays.Zip(WebhookRetryDelays.Skip(1)).Any(pair => pair.Second < pair.First)))
        {
            yield return new ValidationResult("Emulator:WebhookRetryDelays must hold exactly 5 delays, none shorter than the one before.",
                [nameof(WebhookRetryDelays)]);
        }
    }
}
