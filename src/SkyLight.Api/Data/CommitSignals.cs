using Microsoft.EntityFrameworkCore.Diagnostics;
using SkyLight.Api.Channels;
using SkyLight.Api.Channels.Events;
using SkyLight.Api.Webhooks;

namespace SkyLight.Api.Data;

/// <summary>
/// Tells the queues and the event feed that a transaction committed work for them, so they start at once instead of
/// at their next tick, and this node's caches what it changed, so the node sees its own writes at once.
/// <see cref="SkyLightDb"/> calls it after every commit; no caller has to remember.
/// </summary>
internal sealed class CommitSignals(IServiceProvider services)
{
    /// <summary>
    /// What a transaction added (deletions to make, webhooks to apply, channel events to hand out, and which events, to
    /// count them) and changed (the channels, by workspace and type, and the workspaces whose keys or settings moved).
    /// </summary>
    public readonly record struct Pending(bool Deletions, bool Webhooks, bool Deliveries = false,
        HashSet<(int WorkspaceId, string Type)>? Channels = null, HashSet<int>? Workspaces = null, List<ChannelEvent>? Journal = null)
    {
        public Pending WithChannel(int workspaceId, string type) => this with { Channels = [.. Channels ?? [], (workspaceId, type)] };

        public Pending WithWorkspace(int workspaceId) => this with { Workspaces = [.. Workspaces ?? [], workspaceId] };
    }

    public void Signal(Pending pending)
    {
        foreach (var (workspaceId, type) in pending.Channels ?? [])
        {
            services.GetRequiredService<ChannelReadModel>().Invalidate(workspaceId, type);
        }
        foreach (var workspaceId in pending.Workspaces ?? [])
        {
            services.GetRequiredService<Tenancy.ApiKeyCache>().WorkspaceChanged(workspaceId);
        }
        if (pending.Deletions)
        {
            services.GetRequiredService<RemoteDeletionProcessor>().Wake();
        }
        if (pending.Webhooks)
        {
            services.GetRequiredService<WebhookInboxProcessor>().Wake();
        }
        if (pending.Deliveries)
        {
            services.GetRequiredService<Notifications.WebhookSender>().Wake();
        }
        if (pending.Journal is { } journal)
        {
            services.GetRequiredService<ChannelEventFeed>().Wake();
            services.GetRequiredService<Observability.SkyLightMetrics>().Committed(journal);
        }
    }
}

/// <summary>
/// Writes a unit of work's channel events just before its transaction commits, and tells <see cref="CommitSignals"/>
/// after. Part of every <see cref="SkyLightDb"/>'s options (see <see cref="DatabaseSetup"/>), so no context can save a
/// change without its events.
/// </summary>
internal sealed class JournalInterceptor : DbTransactionInterceptor
{
    public static readonly JournalInterceptor Instance = new();

    private JournalInterceptor()
    {
    }

    public override async ValueTask<InterceptionResult> TransactionCommittingAsync(System.Data.Common.DbTransaction transaction, TransactionEventData eventData,
        InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is SkyLightDb db)
        {
            await db.WriteJournalAsync(cancellationToken);
        }
        return result;
    }

    public override InterceptionResult TransactionCommitting(System.Data.Common.DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        if (eventData.Context is SkyLightDb db)
        {
            db.WriteJournalAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        return result;
    }

    public override void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) =>
        (eventData.Context as SkyLightDb)?.Committed();

    public override Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        (eventData.Context as SkyLightDb)?.Committed();
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) =>
        (eventData.Context as SkyLightDb)?.RolledBack();

    public override Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        (eventData.Context as SkyLightDb)?.RolledBack();
        return Task.CompletedTask;
    }
}
