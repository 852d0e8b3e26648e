using Microsoft.Extensions.Options;

namespace Unipile.Emulator;

/// <summary>Everything the emulator remembers, in memory. Every read and write takes <see cref="Sync"/>.</summary>
internal sealed class EmulatorState(IOptions<EmulatorOptions> options)
{
    public object Sync { get; } = new();

    /// <summary>In creation order, which is also the order GET /accounts pages through.</summary>
    public List<EmulatedAccount> Accounts { get; } = [];
    public List<RegisteredWebhook> Webhooks { get; } = [];
    public Dictionary<string, InstagramUser> InstagramUsers { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<Fault> Faults { get; } = [];

    /// <summary>Every Unipile call received, oldest first, so tests can count what a client asked.</summary>
    public List<(string Method, string Path, DateTimeOffset At)> Requests { get; } = [];
    public int LatencyMs { get; set; }
    public bool DeliverWebhooks { get; set; } = true;
    public int CheckpointStatusCode { get; set; } = options.Value.CheckpointStatusCode;

    /// <summary>Bumped by reset: deliveries queued before it are dropped, retries included.</summary>
    public int Generation { get; private set; }

    public EmulatedAccount? Find(string id) => Accounts.Find(a => a.Id == id);

    /// <summary>Takes one use of the first fault matching the request, if any.</summary>
    public Fault? TakeFault(HttpRequest request)
    {
        var fault = Faults.Find(f => f.Matches(request));
        if (fault is not null && --fault.Count <= 0)
        {
            Faults.Remove(fault);
        }
        return fault;
    }

    public void Reset()
    {
        Accounts.Clear();
        Webhooks.Clear();
        InstagramUsers.Clear();
        Faults.Clear();
        Requests.Clear();
        LatencyMs = 0;
        DeliverWebhooks = true;
        CheckpointStatusCode = options.Value.CheckpointStatusCode;
        Generation++;
    }
}
