using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Data;

/// <summary>
/// The database, and the only repository. Provider-specific details live in the subclasses so each
/// provider keeps its own migrations; the model here is written to behave the same on all of them.
/// </summary>
internal abstract class SkyLightDb(DbContextOptions options, CurrentWorkspace workspace) : DbContext(options)
{
    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    /// <summary>Read by tenant query filters; a property of the context so EF evaluates it per query.</summary>
    protected int WorkspaceId => workspace.Id;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Workspace>(workspace =>
        {
            workspace.Property(w => w.Name).HasMaxLength(100);
            workspace.Property(w => w.TimeZone).HasMaxLength(64);
        });

        modelBuilder.Entity<ApiKey>(key =>
        {
            key.Property(k => k.Hash).HasMaxLength(32);
            key.Property(k => k.Prefix).HasMaxLength(16);
            key.HasIndex(k => k.Hash).IsUnique();
            key.HasIndex(k => k.Prefix);
            key.HasOne(k => k.Workspace).WithMany(w => w.ApiKeys).HasForeignKey(k => k.WorkspaceId);
        });
    }
}
