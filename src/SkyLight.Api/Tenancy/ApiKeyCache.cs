using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Hosting;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tenancy;

/// <summary>What a live API key stands for.</summary>
internal sealed record KeyIdentity(int KeyId, int WorkspaceId, bool WorkspaceActive, TimeZoneInfo TimeZone);

/// <summary>
/// API keys by their SHA-256, from memory: known keys and (apart, in a smaller cache) unknown ones, each at most
/// <see cref="CacheOptions.MaxAge"/> old, so a key revoked or a workspace deactivated on another node (or by a management
/// verb) is refused here within that bound; on this node at once (<see cref="CommitSignals"/>). Malformed keys never
/// reach the database, and misses query it at most <see cref="CacheOptions.KeyLookups"/> at a time, so a flood of
/// made-up keys costs the database a bounded trickle of indexed lookups and this node a bounded cache.
/// </summary>
internal sealed class ApiKeyCache : IDisposable
{
    private readonly FreshCache<KeyHash, KeyIdentity> _known;
    private readonly FreshCache<KeyHash, bool> _unknown;
    private readonly SemaphoreSlim _lookups;
    private readonly IServiceScopeFactory _scopes;

    public ApiKeyCache(IServiceScopeFactory scopes, TimeProvider time, IOptions<CacheOptions> options)
    {
        _scopes = scopes;
        _known = new(time, options.Value.MaxAge, options.Value.Keys);
        _unknown = new(time, options.Value.MaxAge, options.Value.UnknownKeys);
        _lookups = new(options.Value.KeyLookups);
    }

    public int Count => _known.Count + _unknown.Count;

    /// <summary>The live key's identity; null for a malformed, unknown or revoked key.</summary>
    public async ValueTask<KeyIdentity?> FindAsync(string presented, CancellationToken ct)
    {
        if (!ApiKey.LooksLikeKey(presented))
        {
            return null;
        }
        var hash = ApiKey.HashOf(presented);
        var key = KeyHash.Of(hash);
        if (_known.TryGet(key, out var identity))
        {
            return identity;
        }
        if (_unknown.TryGet(key, out _))
        {
            return null;
        }

        await _lookups.WaitAsync(ct);
        try
        {
            var knownTicket = _known.BeforeRead(key);
            var unknownTicket = _unknown.BeforeRead(key);
            await using var scope = _scopes.CreateAsyncScope();
            var match = await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ApiKeys.AsNoTracking()
                .Where(k => k.Hash == hash && k.RevokedAt == null)
                .Select(k => new { k.Id, k.Hash, k.WorkspaceId, k.Workspace.IsActive, k.Workspace.TimeZone })
                .SingleOrDefaultAsync(ct);
            if (match is null || !CryptographicOperations.FixedTimeEquals(match.Hash, hash))
            {
                _unknown.Store(key, true, unknownTicket);
                return null;
            }
            identity = new KeyIdentity(match.Id, match.WorkspaceId, match.IsActive, WorkspaceTime.FindZone(match.TimeZone) ?? TimeZoneInfo.Utc);
            _known.Store(key, identity, knownTicket);
            return identity;
        }
        finally
        {
            _lookups.Release();
        }
    }

    public void Dispose() => _lookups.Dispose();

    /// <summary>Re-reads the keys in use, in bulk: a revoked key or a deactivated workspace shows within the bound.</summary>
    public Task RefreshAsync(CancellationToken ct) => _known.RefreshAsync(async (used, token) =>
    {
        var fresh = new Dictionary<KeyHash, KeyIdentity>();
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        foreach (var chunk in used.Chunk(1_000))
        {
            var ids = chunk.Select(u => u.Value.KeyId).ToList();
            var live = await db.ApiKeys.AsNoTracking().Where(k => ids.Contains(k.Id) && k.RevokedAt == null)
                .Select(k => new { k.Id, k.Workspace.IsActive, k.Workspace.TimeZone }).ToDictionaryAsync(k => k.Id, token);
            foreach (var (key, identity) in chunk)
            {
                if (live.TryGetValue(identity.KeyId, out var now))
                {
                    fresh[key] = identity with { WorkspaceActive = now.IsActive, TimeZone = WorkspaceTime.FindZone(now.TimeZone) ?? TimeZoneInfo.Utc };
                }
            }
        }
        return fresh;
    }, ct);

    /// <summary>A workspace or its keys changed on this node: its keys are read again, and no key is unknown any more.</summary>
    public void WorkspaceChanged(int workspaceId)
    {
        _known.InvalidateWhere(identity => identity.WorkspaceId == workspaceId);
        _unknown.InvalidateWhere(_ => true);
    }

    /// <summary>A SHA-256 as a dictionary key without an allocation per request.</summary>
    private readonly record struct KeyHash(UInt128 High, UInt128 Low)
    {
        public static KeyHash Of(byte[] sha256) =>
            new(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(sha256), System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(sha256.AsSpan(16)));
    }
}
