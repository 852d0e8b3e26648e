using System.CommandLine;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary>
/// <c>skylight</c>: SkyLight Chat channels from the terminal, over the SDK. Configured by SKYLIGHT_API_URL and
/// SKYLIGHT_API_KEY (or --api-url, --api-key). Exit codes: 0 ok, 1 API error, 2 usage.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args, AnsiConsole.Console);

    /// <summary>The whole CLI against a console (a test's, or the terminal) and, for tests, an HTTP handler.</summary>
    internal static async Task<int> RunAsync(string[] args, IAnsiConsole console, HttpMessageHandler? handler = null, TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        var cli = new Cli(console, handler);
        var root = new RootCommand("SkyLight Chat channels from the terminal")
        {
            ChannelsCommands.Build(cli, pollInterval ?? TimeSpan.FromSeconds(2)),
            CampaignsCommands.Build(cli),
            WebhooksCommands.Build(cli, pollInterval ?? TimeSpan.FromSeconds(2)),
        };
        foreach (var option in new Option[] { cli.ApiUrl, cli.ApiKey, cli.AsJson, cli.IdempotencyKey })
        {
            option.Recursive = true;
            root.Options.Add(option);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                console.MarkupLineInterpolated($"[red]{error.Message}[/]");
            }
            console.MarkupLine("Run [bold]skylight --help[/] for usage.");
            return Cli.Usage;
        }
        return await parse.InvokeAsync(cancellationToken: cancellationToken);
    }
}
