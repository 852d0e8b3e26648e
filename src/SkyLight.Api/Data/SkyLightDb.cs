using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Campaigns;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Notifications;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Webhooks;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Data;

/// <summary>
/// The database, and the only repository. Provider-specific details live in the subclasses so each
/// provider keeps its own migrations; the model here is written to behave the same on all of them.
/// </summary>
internal abstract class SkyLightDb(DbContextOptions options, CurrentWorkspace workspace, CommitSignals? signals) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>What the transaction under way added that someone waits for: told once it commits.</summary>
    private CommitSignals.Pending _uncommitted;

    /// <summary>True while the journal is written, the one save that keeps the events in.</summary>
    private bool _writingJournal;

    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Channel> Channels => Set<Channel>();
    public DbSet<ConnectAttempt> ConnectAttempts => Set<ConnectAttempt>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<RemoteDeletion> RemoteDeletions => Set<RemoteDeletion>();
    public DbSet<WebhookInboxItem> WebhookInbox => Set<WebhookInboxItem>();
    public DbSet<JobLease> JobLeases => Set<JobLease>();
    public DbSet<AccountCreation> AccountCreations => Set<AccountCreation>();
    public DbSet<ChannelEvent> ChannelEvents => Set<ChannelEvent>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<Connect.ConnectLink> ConnectLinks => Set<Connect.ConnectLink>();
    public DbSet<Idempotency.IdempotencyRecord> IdempotencyRecords => Set<Idempotency.IdempotencyRecord>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookDeliveryAttempt> WebhookDeliveryAttempts => Set<WebhookDeliveryAttempt>();
    public DbSet<JournalCursor> JournalCursors => Set<JournalCursor>();

    /// <summary>The Data Protection key ring that encrypts webhook secrets, shared by every node.</summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys =>
        Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

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
            channel.Property(c => c.StatusReason).HasConversion(new SnakeCaseEnumConverter<StatusReason>()).HasMaxLength(32);
            // a change of the channel's accounts (see SaveChangesAsync) fails every writer that read the older set
            channel.Property(c => c.Version).IsConcurrencyToken();
            // two syncs that read Unipile one after the other may save in the other order: the later reading must win
            channel.Property(c => c.LastSyncedAt).IsConcurrencyToken();
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

        modelBuilder.Entity<RemoteDeletion>(deletion =>
        {
            deletion.HasIndex(d => d.NextAttemptAt);
            deletion.Property(d => d.LastError).HasMaxLength(500);
        });
        modelBuilder.Entity<WebhookInboxItem>(item =>
        {
            item.HasIndex(i => i.NextAttemptAt);
            item.Property(i => i.LastError).HasMaxLength(500);
        });
        modelBuilder.Entity<ChannelEvent>(journal =>
        {
            journal.HasQueryFilter(TenantFilter, e => e.WorkspaceId == WorkspaceId);
            journal.HasIndex(e => new { e.WorkspaceId, e.Id });
            journal.HasIndex(e => e.OccurredAt);
            journal.Ignore(e => e.Subject);
            journal.Property(e => e.ChannelType).HasMaxLength(16);
            journal.Property(e => e.UnipileAccountId).HasMaxLength(200);
            journal.Property(e => e.Type).HasConversion(new SnakeCaseEnumConverter<ChannelEventType>()).HasMaxLength(32);
            journal.Property(e => e.Reason).HasConversion(new SnakeCaseEnumConverter<StatusReason>()).HasMaxLength(32);
            journal.Property(e => e.Source).HasConversion(new SnakeCaseEnumConverter<ChangeSource>()).HasMaxLength(16);
            journal.Property(e => e.PreviousSyncStatus).HasMaxLength(16);
            journal.Property(e => e.SyncStatus).HasMaxLength(16);
        });
        modelBuilder.Entity<WebhookEndpoint>(endpoint =>
        {
            endpoint.HasQueryFilter(TenantFilter, e => e.WorkspaceId == WorkspaceId);
            endpoint.HasIndex(e => e.WorkspaceId);
            endpoint.HasOne<Workspace>().WithMany().HasForeignKey(e => e.WorkspaceId);
            endpoint.Property(e => e.Name).HasMaxLength(100);
            endpoint.Property(e => e.Url).HasMaxLength(2048);
            endpoint.Property(e => e.Events).HasMaxLength(1000);
            endpoint.Property(e => e.DisabledReason).HasMaxLength(700);
            endpoint.Ignore(e => e.EventList);
            // a rotation is conditional on the secret it replaced: of two at once, one wins and the other is a 409
            endpoint.Property(e => e.ProtectedSecret).IsConcurrencyToken();
        });
        modelBuilder.Entity<WebhookDelivery>(delivery =>
        {
            delivery.HasQueryFilter(TenantFilter, d => d.WorkspaceId == WorkspaceId);
            delivery.HasIndex(d => d.DeliveryId).IsUnique();
            delivery.HasIndex(d => new { d.EndpointId, d.Id });
            delivery.HasIndex(d => d.NextAttemptAt);
            delivery.HasIndex(d => d.CreatedAt);
            delivery.HasOne(d => d.Endpoint).WithMany().HasForeignKey(d => d.EndpointId).OnDelete(DeleteBehavior.Cascade);
            delivery.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryRowId).OnDelete(DeleteBehavior.Cascade);
            delivery.Property(d => d.EventType).HasMaxLength(64);
            delivery.Property(d => d.LastError).HasMaxLength(500);
            delivery.Ignore(d => d.Status);
            delivery.Ignore(d => d.Try);
        });
        modelBuilder.Entity<WebhookDeliveryAttempt>(attempt =>
        {
            attempt.Property(a => a.ResponseBody).HasMaxLength(WebhookSender.MaxResponseBodyChars);
            attempt.Property(a => a.Error).HasMaxLength(500);
        });
        modelBuilder.Entity<Connect.ConnectLink>(link =>
        {
            link.HasQueryFilter(TenantFilter, l => l.WorkspaceId == WorkspaceId);
            link.HasIndex(l => l.TokenHash).IsUnique();
            link.HasIndex(l => new { l.WorkspaceId, l.CreatedAt });
            link.HasOne<Workspace>().WithMany().HasForeignKey(l => l.WorkspaceId);
            link.Property(l => l.ChannelType).HasMaxLength(16);
            link.Property(l => l.TokenHash).HasMaxLength(64);
            link.Property(l => l.SuccessRedirectUrl).HasMaxLength(2048);
            link.Property(l => l.FailureRedirectUrl).HasMaxLength(2048);
            link.Property(l => l.State).HasMaxLength(500);
            link.Property(l => l.UnipileAccountId).HasMaxLength(200);
        });
        modelBuilder.Entity<Idempotency.IdempotencyRecord>(record =>
        {
            // the claim: one row per workspace, method, path and key, whichever node inserts it first
            record.HasIndex(r => new { r.WorkspaceId, r.Method, r.Path, r.Key }).IsUnique();
            record.HasIndex(r => r.ExpiresAt);
            record.Property(r => r.Method).HasMaxLength(8);
            record.Property(r => r.Path).HasMaxLength(300);
            record.Property(r => r.Key).HasMaxLength(255);
            record.Property(r => r.Fingerprint).HasMaxLength(64);
            record.Property(r => r.ContentType).HasMaxLength(200);
            record.Property(r => r.Location).HasMaxLength(500);
        });
        modelBuilder.Entity<JournalCursor>(cursor =>
        {
            cursor.HasKey(c => c.Name);
            cursor.Property(c => c.Name).HasMaxLength(64);
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

    /// <summary>
    /// Runs a unit of work and saves it; when the save lost a race (<see cref="LostRace"/>) the work runs again on fresh
    /// data, at most <paramref name="rounds"/> times in all. The work returns false when it has nothing to save.
    /// </summary>
    public async Task<bool> SaveRetryingLostRacesAsync(int rounds, Func<Task<bool>> work, CancellationToken ct)
    {
        for (var round = 1; ; round++)
        {
            if (!await work())
            {
                return false;
            }
            try
            {
                await SaveChangesAsync(ct);
                return true;
            }
            catch (DbUpdateException e) when (round < rounds && LostRace(e))
            {
                ChangeTracker.Clear();   // another request or node changed what the work read: read it again
            }
        }
    }

    /// <summary>
    /// Adds a channel event to the unit of work. It is written by the save that commits the change it describes, as
    /// the transaction's last statement (<see cref="WriteJournalAsync"/>), and never without it.
    /// </summary>
    public void Record(ChannelEvent channelEvent) => ChannelEvents.Add(channelEvent);

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        BumpChannelVersions();
        NoteAddedWork();
        if (_writingJournal)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
        var events = PendingEvents();
        if (Database.CurrentTransaction is not null)
        {
            return await SaveWithoutEventsAsync(events, acceptAllChangesOnSuccess, cancellationToken);   // they go in at commit
        }
        if (events.Count == 0)
        {
            var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
            Committed();
            return saved;
        }
        // a change and its events commit together: the journal is written last, just before the commit
        await using var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var count = await SaveWithoutEventsAsync(events, acceptAllChangesOnSuccess, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        if (PendingEvents().Count > 0)
        {
            throw new InvalidOperationException("Channel events are saved with SaveChangesAsync only.");
        }
        BumpChannelVersions();
        NoteAddedWork();
        var saved = base.SaveChanges(acceptAllChangesOnSuccess);
        if (Database.CurrentTransaction is null)
        {
            Committed();
        }
        return saved;
    }

    private List<ChannelEvent> PendingEvents() =>
        [.. ChangeTracker.Entries<ChannelEvent>().Where(e => e.State == EntityState.Added).Select(e => e.Entity)];

    /// <summary>Saves everything but the events, which stay in the unit of work for the commit.</summary>
    private async Task<int> SaveWithoutEventsAsync(List<ChannelEvent> events, bool acceptAllChangesOnSuccess, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, ct);
        }
        foreach (var channelEvent in events)
        {
            Entry(channelEvent).State = EntityState.Detached;
        }
        try
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, ct);
        }
        finally
        {
            ChannelEvents.AddRange(events);
        }
    }

    /// <summary>
    /// Writes the unit of work's events as the last statements of the transaction that is about to commit (called by
    /// <see cref="JournalInterceptor"/>). On PostgreSQL a transaction-scoped advisory lock makes event ids grow in
    /// commit order across nodes, so a reader following the journal by id never skips one that commits late; it is
    /// taken last, when the transaction holds every row lock it needs, so it cannot close a deadlock. The NOTIFY that
    /// tells the other nodes is delivered only if the transaction commits.
    /// </summary>
    internal async Task WriteJournalAsync(CancellationToken ct)
    {
        var events = PendingEvents();
        if (events.Count == 0)
        {
            return;
        }
        foreach (var channelEvent in events)
        {
            channelEvent.ChannelId = channelEvent.Subject?.Id ?? channelEvent.ChannelId;
        }
        var postgres = Database.IsNpgsql();
        if (postgres)
        {
            await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({ChannelEventFeed.JournalLock})", ct);
        }
        _writingJournal = true;
        try
        {
            await base.SaveChangesAsync(true, ct);
        }
        finally
        {
            _writingJournal = false;
        }
        if (postgres)
        {
            var last = events.Max(e => e.Id).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Database.ExecuteSqlAsync($"SELECT pg_notify({ChannelEventFeed.NotifyChannel}, {last})", ct);
        }
        _uncommitted = _uncommitted with { Journal = [.. _uncommitted.Journal ?? [], .. events] };
    }

    /// <summary>The transaction committed: whoever waits for what it added is told now.</summary>
    internal void Committed()
    {
        var pending = _uncommitted;
        _uncommitted = default;
        signals?.Signal(pending);
    }

    /// <summary>The transaction rolled back: nothing it added exists, and its events are not written.</summary>
    internal void RolledBack()
    {
        _uncommitted = default;
        foreach (var channelEvent in PendingEvents())
        {
            Entry(channelEvent).State = EntityState.Detached;
        }
    }

    /// <summary>
    /// Notes what this save adds that someone waits for (queue items), and what it changes that this node's caches hold
    /// (channels and their attempts, workspaces and their keys), for <see cref="Committed"/> to tell.
    /// </summary>
    private void NoteAddedWork()
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached)
            {
                continue;
            }
            _uncommitted = entry.Entity switch
            {
                RemoteDeletion when entry.State == EntityState.Added => _uncommitted with { Deletions = true },
                WebhookInboxItem when entry.State == EntityState.Added => _uncommitted with { Webhooks = true },
                WebhookDelivery when entry.State == EntityState.Added => _uncommitted with { Deliveries = true },
                Channel channel => _uncommitted.WithChannel(channel.WorkspaceId, channel.Type),
                ConnectAttempt attempt => _uncommitted.WithChannel(attempt.WorkspaceId, attempt.ChannelType),
                Workspace workspace => _uncommitted.WithWorkspace(workspace.Id),
                ApiKey key => _uncommitted.WithWorkspace(key.WorkspaceId),
                _ => _uncommitted,
            };
        }
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

/// <summary>An enum stored as its snake_case name, as it is shown on the wire.</summary>
internal sealed class SnakeCaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(v => EventNames.Of(v), v => Parse(v))
    where TEnum : struct, Enum
{
    private static readonly Dictionary<string, TEnum> ByName = Enum.GetValues<TEnum>().ToDictionary(v => EventNames.Of(v), StringComparer.Ordinal);

    private static TEnum Parse(string name) => ByName[name];
}
