using System.CommandLine;
using SkyLight.Sdk;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary><c>skylight campaigns list|create|start|pause|resume|cancel</c>.</summary>
internal static class CampaignsCommands
{
    public static Command Build(Cli cli)
    {
        var status = new Option<string?>("--status") { Description = "Only campaigns in this status" };
        var page = new Option<int>("--page") { Description = "Page number", DefaultValueFactory = _ => 1 };
        var list = new Command("list", "List campaigns, newest first") { status, page };
        list.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var campaigns = await cli.Client(parse).Campaigns.ListAsync(parse.GetValue(status), parse.GetValue(page), cancellationToken: ct);
            cli.Write(parse, campaigns, () =>
            {
                var table = new Table().AddColumns("id", "name", "channel", "status", "updated");
                foreach (var campaign in campaigns.Items)
                {
                    table.AddRow(Id(campaign), campaign.Name, campaign.ChannelId.ToString(System.Globalization.CultureInfo.InvariantCulture), campaign.Status, campaign.UpdatedAt.ToString("u"));
                }
                cli.Console.Write(table);
                cli.Console.MarkupLineInterpolated($"page {campaigns.CurrentPage} of {campaigns.LastPage}, {campaigns.Total} in all");
            });
            return Cli.Ok;
        }));

        var name = new Option<string>("--name") { Description = "The campaign's name", Required = true };
        var channel = new Option<int>("--channel") { Description = "The id of the channel it sends through", Required = true };
        var create = new Command("create", "Create a draft campaign") { name, channel };
        create.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            Show(cli, parse, await cli.Client(parse).Campaigns.CreateAsync(parse.GetValue(name)!, parse.GetValue(channel), ct));
            return Cli.Ok;
        }));

        var campaigns = new Command("campaigns", "Outreach campaigns (lifecycle)") { list, create };
        foreach (var (verb, move) in new (string, Func<CampaignsClient, int, CancellationToken, Task<Campaign>>)[]
        {
            ("start", (c, id, ct) => c.StartAsync(id, ct)),
            ("pause", (c, id, ct) => c.PauseAsync(id, ct)),
            ("resume", (c, id, ct) => c.ResumeAsync(id, ct)),
            ("cancel", (c, id, ct) => c.CancelAsync(id, ct)),
        })
        {
            var id = new Argument<int>("id") { Description = "The campaign's id" };
            var command = new Command(verb, $"{verb} a campaign") { id };
            command.SetAction((parse, ct) => cli.RunAsync(async () =>
            {
                Show(cli, parse, await move(cli.Client(parse).Campaigns, parse.GetValue(id), ct));
                return Cli.Ok;
            }));
            campaigns.Subcommands.Add(command);
        }
        return campaigns;
    }

    private static void Show(Cli cli, ParseResult parse, Campaign campaign) =>
        cli.Write(parse, campaign, () => cli.Console.MarkupLineInterpolated($"campaign {Id(campaign)} [bold]{campaign.Name}[/]: {campaign.Status}"));

    private static string Id(Campaign campaign) => campaign.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
