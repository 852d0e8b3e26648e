using System.Collections.Concurrent;

namespace SkyLight.Api.Hosting;

/// <summary>
/// A per-node cache whose entries are never served older than its maximum age, so whatever another node changed shows
/// here within that bound even when nobody tells this node; this node's own changes <see cref="Invalidate"/> at once.
/// Entries in use are re-read in bulk by <see cref="RefreshAsync"/> (see <see cref="CacheRefresher"/>) before they age
/// out, so a request almost never waits on the database, and the database sees a few queries per refresh, not one per key.
/// Bounded in count: when full, expired entries go; if more than half are live, all go (a flood of new keys costs hits,
/// never memory).
/// </summary>
/// <remarks>
/// A fill takes a <see cref="ReadTicket"/> before it reads the database and hands it to <see cref="Store"/>: an
/// invalidation in between (the database changed after, or while, the fill read it) makes the store a no-op, so a slow
/// read can never put back what a commit just invalidated. Generations are striped by key, so writes to one key do not
/// stop fills of the others. An entry's age counts from the ticket, when its read began, not from when it was stored:
/// a slow read cannot stretch the bound.
/// </remarks>
internal sealed class FreshCache<TKey, TValue>(TimeProvider time, TimeSpan maxAge, int capacity) where TKey : notnull
{
    private const int Stripes = 64;

    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly long[] _generations = new long[Stripes];
    private readonly long _maxAgeTicks = (long)(maxAge.TotalSeconds * time.TimestampFrequency);
    private int _storesSinceCheck;

    /// <summary>How many stores go by between two checks of the size.</summary>
    public int CheckEvery { get; } = Math.Max(1, capacity / 16);

    public int Count => _entries.Count;

    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && time.GetTimestamp() - entry.ReadAt < _maxAgeTicks)
        {
            if (!entry.Read)
            {
                entry.Read = true;   // written once per refresh, not once per hit: the entry stays in every core's cache
            }
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Taken before the database is read, passed to <see cref="Store"/> after.</summary>
    public ReadTicket BeforeRead(TKey key) => new(GenerationOf(key), time.GetTimestamp());

    /// <summary>Keeps what a fill read, unless the key was invalidated since its <paramref name="ticket"/> was taken.</summary>
    public void Store(TKey key, TValue value, ReadTicket ticket)
    {
        var generation = ticket.Generation;
        if (_maxAgeTicks <= 0 || GenerationOf(key) != generation)
        {
            return;
        }
        // counting a ConcurrentDictionary takes all its locks: the size is checked every so many stores, so the cache
        // may exceed its capacity by that many
        if (Interlocked.Increment(ref _storesSinceCheck) >= CheckEvery && Interlocked.Exchange(ref _storesSinceCheck, 0) >= CheckEvery &&
            _entries.Count >= capacity)
        {
            Trim();
        }
        // counted as in use: a fill that no request read again before the next refresh (the first round over a thousand
        // keys on a slow database, say) is refreshed once rather than left to age out and be filled again
        var entry = new Entry(value, ticket.ReadAt) { Read = true };
        _entries[key] = entry;
        if (GenerationOf(key) != generation)
        {
            _entries.TryRemove(KeyValuePair.Create(key, entry));   // invalidated while this was stored
        }
    }

    public void Invalidate(TKey key)
    {
        Interlocked.Increment(ref _generations[Stripe(key)]);
        _entries.TryRemove(key, out _);
    }

    /// <summary>Invalidates every entry whose value matches: rare changes that touch several keys (a workspace's keys).</summary>
    public void InvalidateWhere(Func<TValue, bool> match)
    {
        for (var stripe = 0; stripe < Stripes; stripe++)
        {
            Interlocked.Increment(ref _generations[stripe]);
        }
        foreach (var (key, entry) in _entries)
        {
            if (match(entry.Value))
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    /// <summary>
    /// Re-reads, through <paramref name="load"/>, every entry read since the last refresh, and drops the others once they
    /// are too old (they are read again on their next use). <paramref name="load"/> returns the fresh value of each entry
    /// it still finds; an entry it does not return is dropped.
    /// </summary>
    public async Task RefreshAsync(Func<List<KeyValuePair<TKey, TValue>>, CancellationToken, Task<Dictionary<TKey, TValue>>> load, CancellationToken ct)
    {
        var now = time.GetTimestamp();
        var used = new List<KeyValuePair<TKey, TValue>>();
        var tickets = new List<ReadTicket>();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Read)
            {
                entry.Read = false;
                tickets.Add(new ReadTicket(GenerationOf(key), now));
                used.Add(KeyValuePair.Create(key, entry.Value));
            }
            else if (now - entry.ReadAt >= _maxAgeTicks)
            {
                _entries.TryRemove(KeyValuePair.Create(key, entry));
            }
        }
        if (used.Count == 0)
        {
            return;
        }
        var fresh = await load(used, ct);
        for (var i = 0; i < used.Count; i++)
        {
            if (fresh.TryGetValue(used[i].Key, out var value))
            {
                Store(used[i].Key, value, tickets[i]);
            }
            else if (_entries.TryGetValue(used[i].Key, out var gone) && GenerationOf(used[i].Key) == tickets[i].Generation)
            {
                _entries.TryRemove(KeyValuePair.Create(used[i].Key, gone));
            }
        }
    }

    private void Trim()
    {
        var now = time.GetTimestamp();
        foreach (var (key, entry) in _entries)
        {
            if (now - entry.ReadAt >= _maxAgeTicks)
            {
                _entries.TryRemove(key, out _);
            }
        }
        if (_entries.Count > capacity / 2)
        {
            _entries.Clear();   // mostly live entries: start over rather than scan again at the next store
        }
    }

    private long GenerationOf(TKey key) => Volatile.Read(ref _generations[Stripe(key)]);

    private static int Stripe(TKey key) => (key.GetHashCode() & int.MaxValue) % Stripes;

    /// <summary>Where the key's invalidations stood, and when, as a read of the database began.</summary>
    public readonly record struct ReadTicket(long Generation, long ReadAt);

    private sealed class Entry(TValue value, long readAt)
    {
        public TValue Value { get; } = value;
        public long ReadAt { get; } = readAt;

        /// <summary>Read since the last refresh: worth reading again before it ages out.</summary>
        public bool Read { get; set; }
    }
}
