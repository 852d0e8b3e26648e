using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Campaigns;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Channels;

/// <summary>
/// The channels: WhatsApp and Telegram connect by QR and poll status; Instagram (InstagramApi) logs in with
/// credentials and codes; all three refresh and disconnect the same way.
/// </summary>
internal static class ChannelsApi
{
    private static readonly Dictionary<string, string> ConnectMessages = new()
    {
        [ChannelTypes.WhatsApp] = "QR code generated. Scan with WhatsApp on your phone: Settings → Linked devices → Link a device.",
        [ChannelTypes.Telegram] = "QR code generated. Open Telegram → Settings → Devices → Link Desktop Device, then scan.",
    };

    /// <summary>How often a disconnect reads the channel again after a concurrent change to its accounts.</summary>
    private const int DisconnectRounds = 8;

    /// <summary>Names the disconnect's read of the channel in SQL, for traces and for the tests that race it.</summary>
    public const string DisconnectReadTag = "disconnect: read the channel";

    public static RouteGroupBuilder MapChannels(this RouteGroupBuilder api)
    {
        var channels = api.MapGroup("/channels").WithTags("Channels");
        foreach (var type in ConnectMessages.Keys)
        {
            var name = ChannelNames.Display(type);
            channels.MapPost($"/{type}/connect", (QrConnector connector, CurrentWorkspace workspace, CancellationToken ct) => Connect(type, connector, workspace, ct))
                .WithName($"Connect{name}").WithSummary($"Starts a {name} login: a QR code to scan and an account_id to poll with.")
                .Errors(409, 502, 503, 504);
            channels.MapGet($"/{type}/status", ([FromQuery(Name = "account_id")] string? accountId, SkyLightDb db, CurrentWorkspace workspace,
                    StatusPoller poller, RemoteDeletions deletions, TimeProvider time, CancellationToken ct) =>
                    Status(type, accountId, db, workspace, poller, deletions, time, ct))
                .WithName($"Get{name}Status").WithSummary($"The {name} channel, with completed/in_progress while a login is pending.")
                .Errors(404);
            channels.MapQrImage(type);
        }
        channels.MapInstagram();
        foreach (var type in new[] { ChannelTypes.WhatsApp, ChannelTypes.Telegram, ChannelTypes.Instagram })
        {
            var name = ChannelNames.Display(type);
            channels.MapPost($"/{type}/refresh", (SkyLightDb db, ChannelSync sync, CurrentWorkspace workspace, CancellationToken ct) =>
                    Refresh(type, db, sync, workspace, ct))
                .WithName($"Refresh{name}").WithSummary($"Pulls the {name} account's status from Unipile.")
                .Errors(404, 502, 503, 504);
            channels.MapPost($"/{type}/disconnect", (SkyLightDb db, RemoteDeletions deletions, TimeProvider time, CancellationToken ct) =>
                    Disconnect(type, db, deletions, time, ct))
                .WithName($"Disconnect{name}").WithSummary($"Removes the {name} account from Unipile and deletes the channel.")
                .Errors(404, 422);
        }
        return channels;
    }

    private static async Task<Results<Ok<Envelope<QrConnectResponse>>, ProblemHttpResult>> Connect(
        string type, QrConnector connector, CurrentWorkspace workspace, CancellationToken ct)
    {
        if (await connector.ConnectAsync(type, ct) is not { QrCode: { } qrCode } attempt)
        {
            return ApiErrors.Conflict($"{ChannelNames.Display(type)} is already connected. Disconnect it first.");
        }
        var answer = new QrConnectResponse(attempt.UnipileAccountId, qrCode, Workspaces.WorkspaceTime.Format(attempt.ExpiresAt, workspace.TimeZone));
        return TypedResults.Ok(Envelope.Of(answer, ConnectMessages[type]));
    }

    private static async Task<Results<Ok<Envelope<ChannelStatusResponse>>, ProblemHttpResult>> Status(
        string type, string? accountId, SkyLightDb db, CurrentWorkspace workspace, StatusPoller poller, RemoteDeletions deletions,
        TimeProvider time, CancellationToken ct)
    {
        if (accountId is not null && !Unipile.UnipileIds.IsWellFormed(accountId))
        {
            return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel or connection attempt was found.");
        }
        var attempt = await db.ConnectAttempts.AsNoTracking()
            .Where(a => a.ChannelType == type && (accountId == null ? a.State == AttemptStates.Pending : a.UnipileAccountId == accountId))
            .OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);
        var channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == type, ct);
        if (channel is null || (accountId is not null && attempt is null && channel.UnipileAccountId != accountId))
        {
            return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel or connection attempt was found.");
        }

        if (attempt is { IsPending: true })
        {
            var pendingAccount = attempt.UnipileAccountId;
            if (time.GetUtcNow() >= attempt.ExpiresAt)
            {
                if (await db.ConnectAttempts.Include(a => a.Channel).SingleOrDefaultAsync(a => a.Id == attempt.Id, ct) is { } expiring)
                {
                    await AttemptExpiry.ExpireAsync(db, expiring, deletions, time.GetUtcNow(), ct);
                }
            }
            else
            {
                await poller.PollIfDueAsync(attempt.UnipileAccountId, ct);
            }
            // a concurrent disconnect may have removed both meanwhile: then there is nothing to show
            attempt = await db.ConnectAttempts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == attempt.Id, ct);
            channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channel.Id, ct);
            if (channel is null)
            {
                return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel or connection attempt was found.");
            }
            if (attempt is not { IsPending: true })
            {
                poller.Forget(pendingAccount);
            }
        }

        var completed = channel.IsConnected && (accountId is null || channel.UnipileAccountId == accountId);
        // read one after the other, the two can straddle a completion: a connected channel has no login in progress
        var inProgress = !completed && attempt is { IsPending: true };
        return TypedResults.Ok(Envelope.Of(ChannelStatusResponse.From(channel, workspace.TimeZone, completed, inProgress)));
    }

    private static async Task<Results<Ok<Envelope<ChannelResponse>>, ProblemHttpResult>> Refresh(
        string type, SkyLightDb db, ChannelSync sync, CurrentWorkspace workspace, CancellationToken ct)
    {
        var channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Type == type, ct);
        if (channel is null)
        {
            return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel is connected.");
        }
        var accountId = await db.ConnectAttempts.Where(a => a.ChannelType == type && a.State == AttemptStates.Pending)
            .Select(a => a.UnipileAccountId).SingleOrDefaultAsync(ct) ?? channel.UnipileAccountId;
        if (accountId is not null)
        {
            await sync.SyncAccountAsync(accountId, SyncSource.Refresh, null, ct);
            channel = await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channel.Id, ct);
            if (channel is null)
            {
                return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel is connected.");   // disconnected meanwhile
            }
        }
        return TypedResults.Ok(Envelope.Of(ChannelResponse.From(channel, workspace.TimeZone), "Channel status refreshed from Unipile."));
    }

    /// <summary>
    /// Forgets the channel now and queues its Unipile accounts for deletion in the same transaction; the
    /// deletion itself is retried in the background until Unipile confirms. The delete is conditional on the
    /// channel's version: when a connect or a completion changed its accounts after they were read, the
    /// disconnect reads them again, so every account it answered 204 for is queued.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Disconnect(
        string type, SkyLightDb db, RemoteDeletions deletions, TimeProvider time, CancellationToken ct)
    {
        for (var round = 1; ; round++)
        {
            var channel = await db.Channels.TagWith(DisconnectReadTag).SingleOrDefaultAsync(c => c.Type == type, ct);
            if (channel is null)
            {
                return ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel is connected.");
            }
            if (await db.Campaigns.AnyAsync(c => c.ChannelId == channel.Id && CampaignStatuses.HoldingChannel.Contains(c.Status), ct))
            {
                return ApiErrors.Unprocessable("An outreach campaign is running or paused on this channel. Cancel it first.");
            }

            var now = time.GetUtcNow();
            var accounts = await db.ConnectAttempts.Where(a => a.ChannelId == channel.Id && a.State == AttemptStates.Pending)
                .Select(a => a.UnipileAccountId).ToListAsync(ct);
            foreach (var account in accounts.Append(channel.UnipileAccountId).OfType<string>().Distinct())
            {
                deletions.Enqueue(account, now);
            }
            db.Channels.Remove(channel);   // its attempts go with it (cascade)
            try
            {
                await db.SaveChangesAsync(ct);
                deletions.Wake();
                return TypedResults.NoContent();
            }
            catch (DbUpdateException e) when (round < DisconnectRounds && SkyLightDb.LostRace(e))
            {
                // another disconnect removed it (the next round answers 404), or its accounts changed: read again
                db.ChangeTracker.Clear();
            }
        }
    }
}
