using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SkyLight.Sdk;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary><c>skylight channels events [type] [--follow] [--after ID] [--page N] [--per-page N]</c>: the channels' journal.</summary>
internal static class EventsCommand
{
    private static readonly JsonSerializerOptions Line = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Build(Cli cli, TimeSpan pollInterval)
    {
        var type = new Argument<string?>("type") { Description = "whatsapp, telegram or instagram; every type when left out", Arity = ArgumentArity.ZeroOrOne };
        type.AcceptOnlyFromAmong("whatsapp", "telegram", "instagram");
        var follow = new Option<bool>("--follow") { Description = "Keep printing new events as they happen, oldest first, until Ctrl+C" };
        var after = new Option<long?>("--after") { Description = "Only events after this id, oldest first (with --follow: where to start; default: now)" };
        var page = new Option<int>("--page") { Description = "The page, newest first (default 1)", DefaultValueFactory = _ => 1 };
        var perPage = new Option<int>("--per-page") { Description = "Events per page, 1 to 100 (default 15)", DefaultValueFactory = _ => 15 };
        var events = new Command("events", "What changed on the channels, why, and when (newest first; --follow tails new events)")
        {
            type, follow, after, page, perPage,
        };
        events.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var client = cli.Client(parse, pollInterval);
            var query = new ChannelEventQuery { Type = parse.GetValue(type), After = parse.GetValue(after), Page = parse.GetValue(page), PerPage = parse.GetValue(perPage) };
            if (parse.GetValue(follow))
            {
                return await FollowAsync(cli, parse, client, query, ct);
            }
            var result = await client.Channels.GetEventsAsync(query, ct);
            cli.Write(parse, result, () =>
            {
                foreach (var channelEvent in result.Items)
                {
                    cli.Console.WriteLine(Describe(channelEvent));
                }
                cli.Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"page {result.CurrentPage} of {result.LastPage}, {result.Total} events"));
            });
            return Cli.Ok;
        }));
        return events;
    }

    /// <summary>Prints each new event as it comes: one line, or one JSON object per line with --json. Starts now unless --after says where.</summary>
    private static async Task<int> FollowAsync(Cli cli, ParseResult parse, SkyLightClient client, ChannelEventQuery query, CancellationToken ct)
    {
        var start = query.After ?? await NewestIdAsync(client, query.Type, ct);
        try
        {
            await foreach (var channelEvent in client.Channels.FollowEventsAsync(start, query.Type, cancellationToken: ct))
            {
                cli.Console.WriteLine(parse.GetValue(cli.AsJson) ? JsonSerializer.Serialize(channelEvent, Line) : Describe(channelEvent));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: a normal end of following
        }
        return Cli.Ok;
    }

    private static async Task<long> NewestIdAsync(SkyLightClient client, string? type, CancellationToken ct) =>
        (await client.Channels.GetEventsAsync(new ChannelEventQuery { Type = type, PerPage = 1 }, ct)).Items is [var newest, ..] ? newest.Id : 0;

    /// <summary><c>#42 2026-03-11T10:00:00+03:00 whatsapp channel.status_changed OK → CREDENTIALS (logged_out, webhook)</c>.</summary>
    private static string Describe(ChannelEvent e) => string.Create(CultureInfo.InvariantCulture,
        $"#{e.Id} {e.OccurredAt:yyyy-MM-dd'T'HH:mm:ssK} {e.ChannelType} {e.Type} {e.PreviousSyncStatus ?? "-"} → {e.SyncStatus ?? "-"} ({e.Reason ?? "-"}, {e.Source})");
}
