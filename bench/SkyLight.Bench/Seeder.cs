using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Workspaces;

namespace SkyLight.Bench;

/// <summary>Writes workspaces, keys and connected channels straight into a SQLite file, through the service's own model.</summary>
internal static class Seeder
{
    private const int Batch = 5_000;

    /// <summary>
    /// <paramref name="keyed"/> workspaces with a key each (returned) and <paramref name="channels"/> connected channels in
    /// all: every workspace has WhatsApp, then Telegram and Instagram until the count is reached.
    /// </summary>
    public static async Task<List<string>> SeedAsync(string databasePath, int keyed, int channels, bool withChannels = true)
    {
        await using var db = Open(databasePath);
        return await SeedAsync(db, keyed, channels, withChannels);
    }

    /// <summary>The same into a PostgreSQL database (created by the migration when it does not exist).</summary>
    public static async Task<List<string>> SeedPostgresAsync(string connectionString, int keyed, int channels)
    {
        var options = new DbContextOptionsBuilder<PostgresSkyLightDb>();
        options.UseSkyLightPostgres(connectionString);
        await using var db = new PostgresSkyLightDb(options.Options, new CurrentWorkspace());
        return await SeedAsync(db, keyed, channels, withChannels: true);
    }

    private static async Task<List<string>> SeedAsync(SkyLightDb db, int keyed, int channels, bool withChannels)
    {
        await DatabaseSetup.MigrateAsync(db, CancellationToken.None);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var now = TimeProvider.System.GetUtcNow();
        var workspaces = withChannels ? Math.Max(keyed, (channels + 2) / 3) : keyed;
        var keys = new List<string>(keyed);
        var nextWorkspace = await db.Workspaces.CountAsync() + 1;

        for (var start = 0; start < workspaces; start += Batch)
        {
            var batch = Enumerable.Range(start, Math.Min(Batch, workspaces - start)).Select(i =>
            {
                var workspace = new Workspace { Name = $"Bench {nextWorkspace + i}", TimeZone = Workspace.DefaultTimeZone, CreatedAt = now };
                if (i < keyed)
                {
                    var (key, secret) = ApiKey.Issue(now);
                    workspace.ApiKeys.Add(key);
                    keys.Add(secret);
                }
                return (Index: i, Workspace: workspace);
            }).ToList();
            db.Workspaces.AddRange(batch.Select(b => b.Workspace));
            await db.SaveChangesAsync();
            if (withChannels)
            {
                foreach (var (index, workspace) in batch)
                {
                    string[] types = [ChannelTypes.WhatsApp, ChannelTypes.Telegram, ChannelTypes.Instagram];
                    for (var t = 0; t < 3 && (t * workspaces) + index < channels; t++)
                    {
                        db.Channels.Add(new Channel
                        {
                            WorkspaceId = workspace.Id,
                            Type = types[t],
                            UnipileAccountId = $"bench-{workspace.Id}-{types[t]}",
                            Username = $"+9665{workspace.Id:D8}",
                            IsConnected = true,
                            SyncStatus = SyncStatuses.Ok,
                            LastSyncedAt = now,
                            CreatedAt = now,
                        });
                    }
                }
                await db.SaveChangesAsync();
            }
            db.ChangeTracker.Clear();
        }
        return keys;
    }

    private static SqliteSkyLightDb Open(string databasePath)
    {
        var options = new DbContextOptionsBuilder<SqliteSkyLightDb>();
        options.UseSkyLightSqlite($"Data Source={databasePath}");
        return new SqliteSkyLightDb(options.Options, new CurrentWorkspace());
    }
}
