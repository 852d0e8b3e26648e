using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.Notifications;

/// <summary>Resolves a host name; a class of its own so a test can play a DNS that answers differently the second time.</summary>
internal class HostResolver
{
    public virtual Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}

/// <summary>An endpoint's host resolved only to addresses this service must not call.</summary>
internal sealed class PrivateTargetException(string message) : Exception(message);

/// <summary>
/// Where deliveries may go. Outside Development a URL must be https; unless <see cref="WebhooksOptions.AllowPrivateTargets"/>,
/// its host may not resolve to a loopback, private, link-local, shared or multicast address — checked when the URL is
/// registered and again on every connection (<see cref="ConnectAsync"/>), so a name that resolves elsewhere later (DNS
/// rebinding) still cannot reach inside.
/// </summary>
internal sealed class WebhookTargets(HostResolver resolver, IOptions<WebhooksOptions> options, IHostEnvironment environment)
{
    private const int MaxUrlLength = 2048;

    /// <summary>Why the URL cannot be an endpoint, or null when it can.</summary>
    public async Task<string?> RefusalAsync(string url, CancellationToken ct)
    {
        if (url.Any(c => c <= ' ' || char.IsControl(c)))
        {
            return "The url must not contain spaces or control characters (percent-encode them).";
        }
        if (url.Length > MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return $"The url must be an absolute http(s) URL of at most {MaxUrlLength} characters.";
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !environment.IsDevelopment())
        {
            return "The url must use https.";
        }
        if (uri.UserInfo.Length > 0)
        {
            return "The url must not carry a user name or password.";
        }
        if (uri.Fragment.Length > 0)
        {
            return "The url must not have a fragment (#…).";
        }
        if (options.Value.AllowPrivateTargets)
        {
            return null;
        }
        IPAddress[] addresses;
        try
        {
            addresses = await AddressesAsync(uri.IdnHost, ct);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return $"The url's host {uri.Host} could not be resolved.";   // ArgumentException: a name DNS cannot hold (over 255 characters)
        }
        return addresses.Length == 0 ? $"The url's host {uri.Host} could not be resolved."
            : addresses.Any(IsPrivate) ? $"The url's host {uri.Host} resolves to a private, loopback, link-local or multicast address." : null;
    }

    /// <summary>The connection of every delivery: to the host's allowed addresses only.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = await AddressesAsync(host, ct);
        if (!options.Value.AllowPrivateTargets)
        {
            addresses = [.. addresses.Where(a => !IsPrivate(a))];
            if (addresses.Length == 0)
            {
                throw new PrivateTargetException($"{host} resolves only to private, loopback, link-local or multicast addresses");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<IPAddress[]> AddressesAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await resolver.ResolveAsync(host, ct);

    /// <summary>
    /// Loopback, private, shared (CGNAT), link-local, unspecified, multicast, documentation, reserved and broadcast ranges,
    /// IPv4 and IPv6; an IPv6 address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by that one.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is { } embedded)
        {
            return IsPrivate(embedded);
        }
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)        // IETF protocol assignments, TEST-NET-1
                || (b[0] == 192 && b[1] == 88 && b[2] == 99)           // 6to4 relay anycast
                || (b[0] == 198 && b[1] is 18 or 19)                   // benchmarking
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)          // TEST-NET-2
                || (b[0] == 203 && b[1] == 0 && b[2] == 113);          // TEST-NET-3
        }
        return IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6UniqueLocal || address.IsIPv6Multicast
            || (b[0] == 0x01 && b[1] == 0x00 && b.AsSpan(2, 6).IndexOfAnyExcept((byte)0) < 0)   // 100::/64 discard
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);                  // 2001:db8::/32 documentation
    }

    /// <summary>The IPv4 address inside an IPv6 one: ::ffff:a.b.c.d, ::a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b::a.b.c.d (NAT64), 2002:aabb:ccdd:: (6to4).</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        var b = address.GetAddressBytes();
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.IPv6None))
        {
            return new IPAddress(b.AsSpan(12, 4));   // IPv4-compatible (deprecated, still routed by some stacks)
        }
        if (b.AsSpan(0, 8).IndexOfAnyExcept((byte)0) < 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            return new IPAddress(b.AsSpan(12, 4));   // IPv4-translated, ::ffff:0:a.b.c.d
        }
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        return b[0] == 0x20 && b[1] == 0x02 ? new IPAddress(b.AsSpan(2, 4)) : null;
    }
}
