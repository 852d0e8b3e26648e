using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Campaigns;
using SkyLight.Api.Channels.Events;
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
            channels.MapGet($"/{type}/status", ([FromQuery(Name = "account_id")] string? accountId, ChannelStatusReader reader, CurrentWorkspace workspace,
                    CancellationToken ct) => Status(type, accountId, reader, workspace, ct))
                .WithName($"Get{name}Status").WithSummary($"The {name} channel, with completed/in_progress while a login is pending.")
                .Errors(404);
            channels.MapQrImage(type);
        }
        channels.MapInstagram();
        channels.MapChannelEvents();
        channels.MapChannelEventStream();
        foreach (var type in ChannelTypes.All)
        {
            var name = ChannelNames.Display(type);
            channels.MapPost($"/{type}/refresh", (SkyLightDb db, ChannelSync sync, CurrentWorkspace workspace, CancellationToken ct) =>
                    Refresh(type, db, sync, workspace, ct))
                .WithName($"Refresh{name}").WithSummary($"Pulls the {name} account's status from Unipile.")
                .Errors(404, 502, 503, 504);
            channels.MapPost($"/{type}/disconnect", (SkyLightDb db, ChannelLifecycle lifecycle, CancellationToken ct) => Disconnect(type, db, lifecycle, ct))
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
        string type, string? accountId, ChannelStatusReader reader, CurrentWorkspace workspace, CancellationToken ct) =>
        await reader.ReadAsync(type, accountId, ct) is { } view
            ? TypedResults.Ok(Envelope.Of(ChannelStatusResponse.From(view, workspace.TimeZone)))
            : ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel or connection attempt was found.");

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
            await sync.SyncAccountAsync(accountId, Events.ChangeSource.Refresh, UnipileHint.None, ct);
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
    private static async Task<Results<NoContent, ProblemHttpResult>> Disconnect(string type, SkyLightDb db, ChannelLifecycle lifecycle, CancellationToken ct)
    {
        ProblemHttpResult? problem = null;
        await db.SaveRetryingLostRacesAsync(DisconnectRounds, async () =>
        {
            // another disconnect may have removed it (then this is a 404), or its accounts changed: every round reads again
            var channel = await db.Channels.TagWith(DisconnectReadTag).SingleOrDefaultAsync(c => c.Type == type, ct);
            if (channel is null)
            {
                problem = ApiErrors.NotFound($"No {ChannelNames.Display(type)} channel is connected.");
                return false;
            }
            if (await db.Campaigns.AnyAsync(c => c.ChannelId == channel.Id && CampaignStatuses.HoldingChannel.Contains(c.Status), ct))
            {
                problem = ApiErrors.Unprocessable("An outreach campaign is running or paused on this channel. Cancel it first.");
                return false;
            }
            var pending = await db.ConnectAttempts.Where(a => a.ChannelId == channel.Id && a.State == AttemptStates.Pending)
                .Select(a => a.UnipileAccountId).ToListAsync(ct);
            lifecycle.Disconnect(channel, pending);
            return true;
        }, ct);
        return problem is null ? TypedResults.NoContent() : problem;
    }
}
