using System.Diagnostics;

namespace SkyLight.Bench;

internal sealed record LoadResult(long Requests, long Errors, double Seconds, double[] LatenciesMs)
{
    public double RequestsPerSecond => Requests / Seconds;
    public double P50 => Percentile(0.50);
    public double P99 => Percentile(0.99);

    private double Percentile(double q) => LatenciesMs.Length == 0 ? 0 : LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)(q * LatenciesMs.Length))];
}

/// <summary>
/// A closed-loop load generator: each connection sends its next request when the previous answered. The same
/// one measures the ceiling and the service, with the same connections and duration. Written here (not wrk)
/// because every request may carry another workspace's key.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(Uri target, int connections, TimeSpan warmup, TimeSpan duration, IReadOnlyList<string>? keys)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        var measureFrom = warmup;
        var stopAt = warmup + duration;
        var perWorker = new List<double>[connections];
        var errors = 0L;

        await Task.WhenAll(Enumerable.Range(0, connections).Select(async worker =>
        {
            var latencies = perWorker[worker] = new List<double>(capacity: 100_000);
            var sequence = worker;
            while (clock.Elapsed < stopAt)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, target.PathAndQuery);
                if (keys is { Count: > 0 })
                {
                    request.Headers.Add("X-Api-Key", keys[sequence % keys.Count]);
                    sequence += connections;
                }
                var started = clock.Elapsed;
                try
                {
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
                if (started >= measureFrom && clock.Elapsed <= stopAt)
                {
                    latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                }
            }
        }));

        var all = perWorker.SelectMany(l => l).Order().ToArray();
        return new LoadResult(all.Length, errors, duration.TotalSeconds, all);
    }
}
