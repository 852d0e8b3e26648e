namespace SkyLight.Api.Channels;

/// <summary>
/// A connect lost a race to a change it cannot explain as a concurrent connect or a completed login (e.g. a
/// disconnect in between). Its Unipile account is already queued for deletion; the caller may simply retry.
/// </summary>
internal sealed class ConcurrentChangeException()
    : Exception("The channel changed while connecting; nothing was kept. Try again.");
