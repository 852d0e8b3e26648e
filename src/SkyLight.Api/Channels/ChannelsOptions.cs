using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Channels;

internal sealed class ChannelsOptions
{
    public const string Section = "Channels";

    /// <summary>How long a connect attempt waits for its scan or code: Unipile's intent lifetime.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan AttemptLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While an attempt is pending, status asks Unipile for the account at most this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan StatusPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The first wait before a failed remote deletion or webhook is retried; it doubles each time, up to 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The shortest time between two resends of an Instagram code.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ResendCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the health pass re-reads every channel from Unipile, to catch sessions that died without a webhook.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many channels the health pass reads from Unipile at once.</summary>
    [Range(1, 64)]
    public int HealthConcurrency { get; set; } = 4;

    /// <summary>
    /// The most Unipile reads per second the health pass makes (one node runs each pass, so this is the cluster's). A pass
    /// reads at most <c>HealthMaxRate × HealthInterval</c> channels, those read longest ago first, and skips the ones a
    /// webhook, a status poll or a refresh read within the interval: see docs/scaling.md for the arithmetic.
    /// </summary>
    [Range(0.01, 1_000_000)]
    public double HealthMaxRate { get; set; } = 20;

    /// <summary>How long a node holds a claimed deletion or webhook; if it dies, another node takes over after this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many times a stored webhook is tried (Unipile unreadable, say) before it is set aside for inspection.</summary>
    [Range(1, 100)]
    public int WebhookMaxAttempts { get; set; } = 10;

    /// <summary>
    /// How many times deleting a Unipile account is tried before it is set aside (and logged) for an operator: with the
    /// back-off capped at 10 minutes, the default keeps trying for about three and a half days.
    /// </summary>
    [Range(1, 100_000)]
    public int DeletionMaxAttempts { get; set; } = 500;

    /// <summary>
    /// How often each node's event feed reads the journal even without a notification: the longest a lost PostgreSQL
    /// NOTIFY can delay an event to another node.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan FeedCatchUpInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Ended attempts and channel events older than this are purged.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan EventRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often background work (expiry, remote deletions, webhook inbox) looks for due items.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan JobInterval { get; set; } = TimeSpan.FromSeconds(5);
}
