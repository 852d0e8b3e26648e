using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;

namespace SkyLight.Api.Connect;

/// <summary>
/// Marks a link used once the channel runs on the account a login through its page created: whoever looks first (the
/// page, the API) records it, so a link is single-use even when the end user closed the page before it noticed.
/// </summary>
internal static class ConnectLinkUse
{
    public static async Task NoteAsync(SkyLightDb db, ConnectLink link, TimeProvider time, CancellationToken ct)
    {
        if (link.UsedAt is not null || link.UnipileAccountId is not { } accountId)
        {
            return;
        }
        var channel = await db.Channels.AsNoTracking().Where(c => c.Type == link.ChannelType && c.IsConnected && c.UnipileAccountId == accountId)
            .Select(c => new { c.Id }).SingleOrDefaultAsync(ct);
        if (channel is null)
        {
            return;
        }
        var now = time.GetUtcNow();
        await db.ConnectLinks.Where(l => l.Id == link.Id && l.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now).SetProperty(l => l.ChannelId, channel.Id), ct);
        link.UsedAt ??= now;
        link.ChannelId ??= channel.Id;
    }
}
