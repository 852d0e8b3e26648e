using System.CommandLine;
using SkyLight.Sdk;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary><c>skylight channels connect|status|refresh|disconnect &lt;type&gt;</c> and <c>skylight channels list</c>.</summary>
internal static class ChannelsCommands
{
    public static Command Build(Cli cli, TimeSpan pollInterval)
    {
        var connect = new Command("connect", "Connect a channel: a QR code to scan (WhatsApp, Telegram) or a login with codes (Instagram)")
        {
            Type(),
        };
        var username = new Option<string?>("--username") { Description = "Instagram: the username or e-mail to log in with" };
        var country = new Option<string?>("--country") { Description = "Instagram: ISO 3166-1 alpha-2 code routing the connection (default SA)" };
        connect.Options.Add(username);
        connect.Options.Add(country);
        connect.SetAction((parse, ct) => cli.RunAsync(() =>
        {
            var type = parse.GetValue<string>("type")!;
            var client = cli.Client(parse, pollInterval);
            return type == "instagram"
                ? ConnectInstagramAsync(cli, parse, client, parse.GetValue(username), parse.GetValue(country), ct)
                : ConnectQrAsync(cli, parse, type == "whatsapp" ? client.WhatsApp : client.Telegram, type, ct);
        }));

        var status = new Command("status", "Show a channel's status") { Type() };
        status.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var type = parse.GetValue<string>("type")!;
            var client = cli.Client(parse);
            if (type == "instagram")
            {
                var channel = await client.Instagram.GetStatusAsync(ct);
                cli.Write(parse, channel, () => cli.ChannelTable(channel, type));
            }
            else
            {
                var channel = await (type == "whatsapp" ? client.WhatsApp : client.Telegram).GetStatusAsync(cancellationToken: ct);
                cli.Write(parse, channel, () => cli.ChannelTable(new Channel(channel.Id, channel.Type, channel.Username, channel.IsConnected, channel.SyncStatus, channel.LastSyncedAt), type));
            }
            return Cli.Ok;
        }));

        var refresh = new Command("refresh", "Pull a channel's status from Unipile") { Type() };
        refresh.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var type = parse.GetValue<string>("type")!;
            var client = cli.Client(parse);
            var channel = type switch
            {
                "whatsapp" => await client.WhatsApp.RefreshAsync(ct),
                "telegram" => await client.Telegram.RefreshAsync(ct),
                _ => await client.Instagram.RefreshAsync(ct),
            };
            cli.Write(parse, channel, () => cli.ChannelTable(channel, type));
            return Cli.Ok;
        }));

        var disconnect = new Command("disconnect", "Remove a channel's account from Unipile and delete the channel") { Type() };
        disconnect.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var type = parse.GetValue<string>("type")!;
            var client = cli.Client(parse);
            await (type switch
            {
                "whatsapp" => client.WhatsApp.DisconnectAsync(ct),
                "telegram" => client.Telegram.DisconnectAsync(ct),
                _ => client.Instagram.DisconnectAsync(ct),
            });
            cli.Write(parse, new { disconnected = type }, () => cli.Console.MarkupLineInterpolated($"[green]{type} disconnected.[/]"));
            return Cli.Ok;
        }));

        var list = new Command("list", "Every channel of the workspace in one table");
        list.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var channels = await cli.Client(parse).Account.GetChannelsAsync(ct);
            cli.Write(parse, channels, () =>
            {
                cli.ChannelTable(channels.Whatsapp, "whatsapp");
                cli.ChannelTable(channels.Telegram, "telegram");
                cli.ChannelTable(channels.Instagram, "instagram");
            });
            return Cli.Ok;
        }));

        return new Command("channels", "Connect, monitor, refresh and disconnect channels")
        {
            connect, status, refresh, disconnect, list, EventsCommand.Build(cli, pollInterval), Link(cli),
        };
    }

    /// <summary><c>skylight channels link &lt;type&gt;</c>: a connect link's URL, and its QR to open it on a phone.</summary>
    private static Command Link(Cli cli)
    {
        var state = new Option<string?>("--state") { Description = "Anything to get back on the redirect (your user's id, say)" };
        var success = new Option<string?>("--success-url") { Description = "Where the page sends the user once connected" };
        var failure = new Option<string?>("--failure-url") { Description = "Where the page sends the user who cancels" };
        var expiresIn = new Option<int?>("--expires-in") { Description = "Seconds the link works: 60 to 604800 (default 3600)" };
        var link = new Command("link", "A link to the hosted connect page, for the account's owner to connect it there")
        {
            Type(), state, success, failure, expiresIn,
        };
        link.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var created = await cli.Client(parse).ConnectLinks.CreateAsync(new ConnectLinkRequest
            {
                Type = parse.GetValue<string>("type")!, State = parse.GetValue(state), SuccessRedirectUrl = parse.GetValue(success),
                FailureRedirectUrl = parse.GetValue(failure), ExpiresInSeconds = parse.GetValue(expiresIn),
            }, ct);
            cli.Write(parse, created, () =>
            {
                cli.Console.Write(new Text(TerminalQr.Draw(created.Url!), new Style(Color.White, Color.Black)));
                cli.Console.WriteLine(created.Url!);   // plain, so a terminal can select it whole
                cli.Console.MarkupLineInterpolated($"Link [grey]{created.Id}[/] works until {created.ExpiresAt:yyyy-MM-dd HH:mm:ss zzz}; its URL is not shown again.");
            });
            return Cli.Ok;
        }));
        return link;
    }

    private static Argument<string> Type()
    {
        var type = new Argument<string>("type") { Description = "whatsapp, telegram or instagram" };
        type.AcceptOnlyFromAmong("whatsapp", "telegram", "instagram");
        return type;
    }

    /// <summary>Draws the QR, waits with a spinner, and offers a fresh QR when one expires (interactive terminals only).</summary>
    private static async Task<int> ConnectQrAsync(Cli cli, ParseResult parse, QrChannelClient channel, string type, CancellationToken ct)
    {
        var console = cli.Console;
        while (true)
        {
            await using var updates = channel.ConnectAndWatchAsync(ct).GetAsyncEnumerator(ct);
            await updates.MoveNextAsync();
            var connection = updates.Current.Connection;
            var json = parse.GetValue(cli.AsJson);
            if (!json)
            {
                // explicit colours: light modules white, dark ones black, whatever the terminal's theme
                console.Write(new Text(TerminalQr.Draw(connection.QrCode), new Style(Color.White, Color.Black)));
                console.MarkupLine(type == "whatsapp"
                    ? "Scan with WhatsApp on your phone: [bold]Settings → Linked devices → Link a device[/]."
                    : "Open Telegram → [bold]Settings → Devices → Link Desktop Device[/], then scan.");
                console.MarkupLineInterpolated($"account_id [grey]{connection.AccountId}[/], expires {connection.ExpiresAt:HH:mm:ss}");
            }

            ChannelStatus? final = null;
            async Task WatchAsync(Action<string> show)
            {
                while (await updates.MoveNextAsync())
                {
                    var status = updates.Current.Status!;
                    show($"Waiting for the scan… ({status.SyncStatus})");
                    final = updates.Current.IsFinal ? status : null;
                }
            }
            if (json)
            {
                await WatchAsync(_ => { });   // scripts get one document at the end, no spinner
            }
            else
            {
                await console.Status().StartAsync("Waiting for the scan…", context => WatchAsync(text => context.Status(text)));
            }

            if (final is { Completed: true })
            {
                cli.Write(parse, new { connection, status = final }, () => console.MarkupLineInterpolated($"[green]Connected[/] {type} as {final.Username} ({final.SyncStatus})."));
                return Cli.Ok;
            }
            var reason = TimeProvider.System.GetUtcNow() >= connection.ExpiresAt ? "the QR code expired" : "the login attempt ended without connecting";
            if (console.Profile.Capabilities.Interactive && await console.ConfirmAsync($"Not connected: {reason}. Show a fresh QR code?", cancellationToken: ct))
            {
                continue;
            }
            cli.Write(parse, new { connection, status = final, connected = false, reason }, () => console.MarkupLineInterpolated($"[red]Not connected:[/] {reason}."));
            return Cli.ApiError;
        }
    }

    /// <summary>Asks for the password without echo, then for each verification code (r resends it).</summary>
    private static async Task<int> ConnectInstagramAsync(Cli cli, ParseResult parse, SkyLightClient client, string? username, string? country, CancellationToken ct)
    {
        var console = cli.Console;
        if (string.IsNullOrWhiteSpace(username))
        {
            throw new UsageException("Instagram needs --username.");
        }
        var password = await console.PromptAsync(new TextPrompt<string>("Instagram password:").Secret(null), ct);   // nothing echoed
        var login = await client.Instagram.ConnectAsync(username, password, country, ct);
        while (login.Verification is { } verification)
        {
            var code = await console.PromptAsync(new TextPrompt<string>($"{verification.CheckpointType} code sent by Instagram (r to resend):"), ct);
            if (code.Trim() is "r" or "R")
            {
                try
                {
                    await client.Instagram.ResendCodeAsync(verification.AccountId, ct);
                    console.MarkupLine("Code resent.");
                }
                catch (SkyLightApiException e) when (e.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
                {
                    console.MarkupLineInterpolated($"[yellow]A code was just sent; wait {e.RetryAfter ?? 30} s before asking again.[/]");
                }
                continue;
            }
            try
            {
                login = await client.Instagram.SubmitCodeAsync(verification.AccountId, code.Trim(), ct);
            }
            catch (SkyLightApiException e) when (e.StatusCode == System.Net.HttpStatusCode.UnprocessableEntity && e.Message.StartsWith("Invalid verification code", StringComparison.Ordinal))
            {
                console.MarkupLineInterpolated($"[yellow]{e.Message}[/]");
            }
        }
        cli.Write(parse, login.Channel!, () => console.MarkupLineInterpolated($"[green]Connected[/] instagram as {login.Channel!.Username} ({login.Channel.SyncStatus})."));
        return Cli.Ok;
    }
}
