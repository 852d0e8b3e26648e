using System.Collections.Concurrent;

namespace SkyLight.Api.Channels.Events;

/// <summary>Counts the open streams of each holder (an API key, a connect link) on this node.</summary>
internal sealed class StreamConnections
{
    private readonly ConcurrentDictionary<string, int> _open = new();

    /// <summary>A slot for one more stream of <paramref name="holder"/>, released on dispose; null when it holds <paramref name="max"/> already.</summary>
    public IDisposable? TryOpen(string holder, int max)
    {
        while (true)
        {
            var count = _open.GetOrAdd(holder, 0);
            if (count >= max)
            {
                return null;
            }
            if (_open.TryUpdate(holder, count + 1, count))
            {
                return new Slot(this, holder);
            }
        }
    }

    /// <summary>How many streams <paramref name="holder"/> has open now.</summary>
    public int Count(string holder) => _open.TryGetValue(holder, out var count) ? count : 0;

    private void Close(string holder)
    {
        while (true)
        {
            var count = _open[holder];
            if (count == 1 ? _open.TryRemove(KeyValuePair.Create(holder, 1)) : _open.TryUpdate(holder, count - 1, count))
            {
                return;
            }
        }
    }

    private sealed class Slot(StreamConnections connections, string holder) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                connections.Close(holder);
            }
        }
    }
}
