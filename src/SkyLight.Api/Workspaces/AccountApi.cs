using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Channels;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Workspaces;

/// <summary>The caller's own workspace ("account" in SkyLight's public vocabulary).</summary>
internal static class AccountApi
{
    public static RouteGroupBuilder MapAccount(this RouteGroupBuilder api)
    {
        var account = api.MapGroup("/account").WithTags("Account");
        account.MapGet("/", Get).WithName("GetAccount").WithSummary("The workspace the API key belongs to.");
        account.MapPatch("/", Update).WithName("UpdateAccount").WithSummary("Renames the workspace or changes its time zone.");
        account.MapGet("/channels", Channels).WithName("GetAccountChannels")
            .WithSummary("Every channel type of the workspace in one call: its channel object, or null when it is not connected.");
        return account;
    }

    private static async Task<Ok<Envelope<AccountResponse>>> Get(SkyLightDb db, CurrentWorkspace current, CancellationToken ct)
    {
        var workspace = await db.Workspaces.AsNoTracking().SingleAsync(w => w.Id == current.Id, ct);
        return TypedResults.Ok(Envelope.Of(AccountResponse.From(workspace)));
    }

    private static async Task<Ok<Envelope<AccountChannelsResponse>>> Channels(SkyLightDb db, CurrentWorkspace current, CancellationToken ct)
    {
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Type, ct);
        ChannelResponse? Of(string type) => channels.TryGetValue(type, out var channel) && channel.IsConnected ? ChannelResponse.From(channel, current.TimeZone) : null;
        return TypedResults.Ok(Envelope.Of(new AccountChannelsResponse(Of(ChannelTypes.WhatsApp), Of(ChannelTypes.Telegram), Of(ChannelTypes.Instagram))));
    }

    private static async Task<Ok<Envelope<AccountResponse>>> Update(
        UpdateAccountRequest request, SkyLightDb db, CurrentWorkspace current, CancellationToken ct)
    {
        var workspace = await db.Workspaces.SingleAsync(w => w.Id == current.Id, ct);
        workspace.Name = request.Name?.Trim() ?? workspace.Name;
        workspace.TimeZone = request.Timezone ?? workspace.TimeZone;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(Envelope.Of(AccountResponse.From(workspace), "Account updated."));
    }
}

/// <summary>The dashboard's one call: each channel type with its channel object, null when it is not connected.</summary>
internal sealed record AccountChannelsResponse(ChannelResponse? Whatsapp, ChannelResponse? Telegram, ChannelResponse? Instagram);

internal sealed record AccountResponse(int Id, string Name, string Timezone, string CreatedAt)
{
    public static AccountResponse From(Workspace workspace) =>
        new(workspace.Id, workspace.Name, workspace.TimeZone,
            WorkspaceTime.Format(workspace.CreatedAt, WorkspaceTime.FindZone(workspace.TimeZone) ?? TimeZoneInfo.Utc));
}

// public: the .NET 10 validation generator only inspects public request types
public sealed record UpdateAccountRequest
{
    [StringLength(100, MinimumLength = 1), NotBlank, PlainText]
    public string? Name { get; init; }

    [IanaTimeZone]
    public string? Timezone { get; init; }
}

/// <summary>Accepts null (not given) or an IANA time zone id such as <c>Asia/Riyadh</c>.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class IanaTimeZoneAttribute() : ValidationAttribute("The {0} field must be an IANA time zone such as Asia/Riyadh.")
{
    public override bool IsValid(object? value) => value is null || (value is string id && WorkspaceTime.FindZone(id) is not null);
}

/// <summary>Accepts null (not given) or a string with something besides white space: it is stored trimmed.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class NotBlankAttribute() : ValidationAttribute("The {0} field cannot be blank.")
{
    public override bool IsValid(object? value) => value is not string text || !string.IsNullOrWhiteSpace(text);
}
