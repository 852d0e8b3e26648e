using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace SkyLight.Api.Tests.Sdk;

/// <summary>
/// Between the SDK and the service: notes each stream connection's Last-Event-ID and counts status reads; cuts the
/// first stream after it carried <c>afterEvents</c> events (mid-read, as a dropped connection does), or lets it fall
/// silent there (<c>stall</c>: open, but not even a heartbeat gets through), or refuses every stream with the given status.
/// </summary>
internal sealed class StreamCutter(int afterEvents, HttpStatusCode? refuse = null, bool stall = false) : DelegatingHandler
{
    private int _streams;

    public ConcurrentQueue<string?> Connections { get; } = new();

    public int StatusReads;

    /// <summary>Streams whose headers arrived: the server subscribes to new events before it sends them, so from then on none is missed.</summary>
    public int Opened;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        if (path.EndsWith("/status", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref StatusReads);
        }
        if (!path.EndsWith("/events/stream", StringComparison.Ordinal))
        {
            return await base.SendAsync(request, cancellationToken);
        }
        if (refuse is { } status)
        {
            return new HttpResponseMessage(status)
            {
                Content = new StringContent("""{"success":false,"message":"Refused.","retry_after":5}""", Encoding.UTF8, "application/json"),
            };
        }
        Connections.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
        var response = await base.SendAsync(request, cancellationToken);
        Interlocked.Increment(ref Opened);
        if (Interlocked.Increment(ref _streams) == 1 && afterEvents < int.MaxValue)
        {
            var inner = await response.Content.ReadAsStreamAsync(cancellationToken);
            var cut = new StreamContent(new CuttingStream(inner, afterEvents, stall));
            foreach (var header in response.Content.Headers)
            {
                cut.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            response.Content = cut;
        }
        return response;
    }
}

/// <summary>
/// Ends the stream (as a broken connection does) at the first read after <c>events</c> "event:" lines went through, or
/// (<c>stall</c>) leaves that read waiting until its reader gives up, as a connection whose peer vanished does.
/// </summary>
internal sealed class CuttingStream(Stream inner, int events, bool stall) : Stream
{
    private int _seen;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_seen >= events)
        {
            if (stall)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            throw new IOException("the connection was cut");
        }
        var read = await inner.ReadAsync(buffer, cancellationToken);
        _seen += CountOf(Encoding.UTF8.GetString(buffer.Span[..read]), "event: ");
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
