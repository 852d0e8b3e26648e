using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;

namespace SkyLight.Api.Workspaces;

/// <summary>Creates workspaces and keys; shared by the management verbs and the first-start seed.</summary>
internal sealed class WorkspaceProvisioning(SkyLightDb db, TimeProvider time)
{
    public async Task<(Workspace Workspace, string ApiKey)> CreateWorkspaceAsync(string name, string timeZone, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var workspace = new Workspace { Name = name, TimeZone = timeZone, CreatedAt = now };
        var (key, secret) = ApiKey.Issue(now);
        workspace.ApiKeys.Add(key);
        db.Workspaces.Add(workspace);
        await db.SaveChangesAsync(ct);
        return (workspace, secret);
    }

    /// <summary>Null when no workspace has the id.</summary>
    public async Task<string?> CreateKeyAsync(int workspaceId, CancellationToken ct)
    {
        if (!await db.Workspaces.AnyAsync(w => w.Id == workspaceId, ct))
        {
            return null;
        }
        var (key, secret) = ApiKey.Issue(time.GetUtcNow());
        key.WorkspaceId = workspaceId;
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return secret;
    }

    /// <summary>Revokes the one live key whose display prefix starts with <paramref name="prefix"/>, or the exact key.</summary>
    public async Task<RevokeOutcome> RevokeKeyAsync(string prefix, CancellationToken ct)
    {
        var live = db.ApiKeys.Where(k => k.RevokedAt == null);
        var matches = ApiKey.LooksLikeKey(prefix)
            ? await live.Where(k => k.Hash == ApiKey.HashOf(prefix)).ToListAsync(ct)
            : await live.Where(k => k.Prefix.StartsWith(prefix)).OrderBy(k => k.Id).Take(2).ToListAsync(ct);
        if (matches.Count != 1)
        {
            return matches.Count == 0 ? RevokeOutcome.NotFound : RevokeOutcome.Ambiguous;
        }
        matches[0].RevokedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return RevokeOutcome.Revoked(matches[0].Prefix);
    }

    /// <summary>Saved through the change tracker, so this node's key cache hears of it at once (other nodes within its bound).</summary>
    public async Task<bool> DeactivateAsync(int workspaceId, CancellationToken ct)
    {
        if (await db.Workspaces.SingleOrDefaultAsync(w => w.Id == workspaceId, ct) is not { } workspace)
        {
            return false;
        }
        workspace.IsActive = false;
        await db.SaveChangesAsync(ct);
        return true;
    }
}

internal sealed record RevokeOutcome(string? RevokedPrefix, string? Problem)
{
    public static readonly RevokeOutcome NotFound = new(null, "no live API key matches that prefix");
    public static readonly RevokeOutcome Ambiguous = new(null, "more than one live API key matches that prefix; give more characters");

    public static RevokeOutcome Revoked(string prefix) => new(prefix, null);
}
