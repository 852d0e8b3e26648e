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
        // a revoked link is never used: a login its page had started before the revocation does not complete through it
        if (link.UsedAt is not null || link.RevokedAt is not null || link.UnipileAccountId is not { } accountId)
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
        if (await db.ConnectLinks.Where(l => l.Id == link.Id && l.UsedAt == null && l.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now).SetProperty(l => l.ChannelId, channel.Id), ct) == 0)
        {
            return;   // revoked (or noted) meanwhile: what the row says stands
        }
        link.UsedAt = now;
        link.ChannelId = channel.Id;
    }
}
