using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Campaigns;
using SkyLight.Api.Channels;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Webhooks;
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
    public DbSet<Channel> Channels => Set<Channel>();
    public DbSet<ConnectAttempt> ConnectAttempts => Set<ConnectAttempt>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<RemoteDeletion> RemoteDeletions => Set<RemoteDeletion>();
    public DbSet<WebhookInboxItem> WebhookInbox => Set<WebhookInboxItem>();
    public DbSet<JobLease> JobLeases => Set<JobLease>();
    public DbSet<AccountCreation> AccountCreations => Set<AccountCreation>();

    /// <summary>The name of the tenant filter; cross-workspace jobs name it in IgnoreQueryFilters so reviewers see it.</summary>
    public const string TenantFilter = "tenant";

    /// <summary>
    /// Read by tenant query filters; a property of the context so EF evaluates it per query. Without a
    /// workspace it matches nothing: forgetting to set one fails closed.
    /// </summary>
    protected int WorkspaceId => workspace.IsSet ? workspace.Id : -1;

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

        modelBuilder.Entity<Channel>(channel =>
        {
            channel.HasQueryFilter(TenantFilter, c => c.WorkspaceId == WorkspaceId);
            channel.HasIndex(c => new { c.WorkspaceId, c.Type }).IsUnique();
            channel.HasIndex(c => c.UnipileAccountId);
            channel.HasOne<Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId);
            channel.Property(c => c.Type).HasMaxLength(16);
            channel.Property(c => c.SyncStatus).HasMaxLength(16);
            // a change of the channel's accounts (see SaveChangesAsync) fails every writer that read the older set
            channel.Property(c => c.Version).IsConcurrencyToken();
        });

        modelBuilder.Entity<ConnectAttempt>(attempt =>
        {
            attempt.HasQueryFilter(TenantFilter, a => a.WorkspaceId == WorkspaceId);
            attempt.HasIndex(a => a.UnipileAccountId);
            // one pending attempt per workspace and type, enforced by the database across nodes
            attempt.HasIndex(a => new { a.WorkspaceId, a.ChannelType }).IsUnique().HasFilter("state = 'pending'");
            attempt.HasIndex(a => new { a.State, a.ExpiresAt });
            attempt.HasOne(a => a.Channel).WithMany().HasForeignKey(a => a.ChannelId).OnDelete(DeleteBehavior.Cascade);
            attempt.Property(a => a.ChannelType).HasMaxLength(16);
            // every state change is conditional on the state read: of two nodes ending one attempt, one wins
            attempt.Property(a => a.State).HasMaxLength(16).IsConcurrencyToken();
        });

        modelBuilder.Entity<Campaign>(campaign =>
        {
            campaign.HasQueryFilter(TenantFilter, c => c.WorkspaceId == WorkspaceId);
            campaign.HasIndex(c => new { c.WorkspaceId, c.Status });
            campaign.HasIndex(c => c.ChannelId);
            campaign.HasOne<Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId);
            campaign.Property(c => c.Name).HasMaxLength(200);
            campaign.Property(c => c.Status).HasMaxLength(16);
        });

        modelBuilder.Entity<RemoteDeletion>().HasIndex(d => d.NextAttemptAt);
        modelBuilder.Entity<WebhookInboxItem>(item =>
        {
            item.HasIndex(i => i.NextAttemptAt);
            item.Property(i => i.LastError).HasMaxLength(500);
        });
        modelBuilder.Entity<AccountCreation>(creation =>
        {
            creation.HasIndex(c => c.StartedAt);
            creation.Property(c => c.ChannelType).HasMaxLength(16);
            creation.Property(c => c.Provider).HasMaxLength(16);
        });
        modelBuilder.Entity<JobLease>(lease =>
        {
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasMaxLength(64);
        });
    }

    /// <summary>
    /// A save that lost a race and may simply be tried again on fresh data: a concurrency token that moved, or
    /// PostgreSQL choosing this transaction as a deadlock's or a serialization failure's victim.
    /// </summary>
    public static bool LostRace(DbUpdateException e) =>
        e is DbUpdateConcurrencyException || e.InnerException is System.Data.Common.DbException { SqlState: "40P01" or "40001" };

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        BumpChannelVersions();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        BumpChannelVersions();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    /// <summary>
    /// A channel's version moves whenever the Unipile accounts it holds change: its own account, or a new attempt
    /// on it. Everything that writes the channel is conditional on the version it read, so a disconnect never
    /// deletes a channel whose accounts it did not see, and a completion never lands on a channel that moved on.
    /// </summary>
    private void BumpChannelVersions()
    {
        ChangeTracker.DetectChanges();
        var changed = new HashSet<Channel>(ReferenceEqualityComparer.Instance);
        foreach (var entry in ChangeTracker.Entries<Channel>())
        {
            if (entry.State == EntityState.Modified && entry.Property(c => c.UnipileAccountId).IsModified)
            {
                changed.Add(entry.Entity);
            }
        }
        foreach (var entry in ChangeTracker.Entries<ConnectAttempt>())
        {
            if (entry.State == EntityState.Added && entry.Entity.Channel is { } channel && Entry(channel).State is EntityState.Unchanged or EntityState.Modified)
            {
                changed.Add(channel);
            }
        }
        foreach (var channel in changed)
        {
            channel.Version++;
        }
    }
}
