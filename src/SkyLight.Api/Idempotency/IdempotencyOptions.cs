using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Idempotency;

internal sealed class IdempotencyOptions
{
    public const string Section = "Idempotency";

    /// <summary>How long a stored outcome is replayed to a repeat of its key.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a running request holds its key; should its node die, a repeat after this runs again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(3);
}
