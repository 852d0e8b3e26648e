namespace SkyLight.Api.Channels;

/// <summary>
/// A connect lost a race to a change it cannot explain as a concurrent connect or a completed login (a reconnect
/// whose channel was disconnected in between). Its Unipile account is already queued for deletion; the caller may
/// simply retry. An expected outcome of a race, answered 409, not a fault of the service.
/// </summary>
internal sealed class ConcurrentChangeException() : Exception(Text)
{
    public const string Text = "The channel changed while connecting; nothing was kept. Try again.";
}
