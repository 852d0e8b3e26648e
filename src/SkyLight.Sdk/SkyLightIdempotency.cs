namespace SkyLight.Sdk;

/// <summary>
/// Idempotency keys. Every POST the client sends carries a fresh <c>Idempotency-Key</c>, kept across its own retries
/// (a 429 waited out, a dropped connection, a 409 while the first try still runs), so a retry is answered, never run
/// twice. To retry across your own code (a job that may run again after a crash), choose the key yourself:
/// <code>using (SkyLightIdempotency.UseKey($"create-campaign-{order.Id}")) { await client.Campaigns.CreateAsync(…); }</code>
/// The key applies to the next POST sent in that async flow.
/// </summary>
public static class SkyLightIdempotency
{
    private static readonly AsyncLocal<Holder?> Next = new();

    /// <summary>The next POST in this async flow sends <paramref name="key"/> (1–255 visible ASCII characters).</summary>
    public static IDisposable UseKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var previous = Next.Value;
        Next.Value = new Holder(key);
        return new Restore(previous);
    }

    /// <summary>The caller's key for this POST, once; null when none was given.</summary>
    internal static string? Take()
    {
        if (Next.Value is not { Used: false } holder)
        {
            return null;
        }
        holder.Used = true;
        return holder.Key;
    }

    private sealed class Holder(string key)
    {
        public string Key { get; } = key;
        public bool Used { get; set; }
    }

    private sealed class Restore(Holder? previous) : IDisposable
    {
        public void Dispose() => Next.Value = previous;
    }
}
