using Microsoft.EntityFrameworkCore;

namespace SkyLight.Api.Data;

/// <summary>Who may run a cluster-wide job (the health pass) until when: one node per interval.</summary>
internal sealed class JobLease
{
    public required string Name { get; init; }
    public DateTimeOffset LeasedUntil { get; set; }
}

/// <summary>
/// Claims in the database, so several nodes on one database do each piece of work once: a conditional UPDATE
/// that only one node can win (PostgreSQL re-checks the condition after a concurrent commit; SQLite has one
/// writer). A claim that is never released expires, so work held by a node that died is picked up again.
/// </summary>
internal static class Claims
{
    /// <summary>Claims the named job until <paramref name="until"/> unless another node holds it.</summary>
    public static async Task<bool> TryClaimJobAsync(this SkyLightDb db, string name, DateTimeOffset now, DateTimeOffset until, CancellationToken ct)
    {
        if (!await db.JobLeases.AnyAsync(l => l.Name == name, ct))
        {
            try
            {
                db.JobLeases.Add(new JobLease { Name = name, LeasedUntil = DateTimeOffset.UnixEpoch });
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // another node created it first; the update below decides who runs
            }
            db.ChangeTracker.Clear();
        }
        return await db.JobLeases.Where(l => l.Name == name && l.LeasedUntil <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.LeasedUntil, until), ct) == 1;
    }
}
