using System.CommandLine;
using System.Text.Json;
using SkyLight.Sdk;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary>What every command shares: the client from flags or environment, output as tables or JSON, exit codes.</summary>
internal sealed class Cli(IAnsiConsole console, HttpMessageHandler? handler = null)
{
    public const int Ok = 0;
    public const int ApiError = 1;
    public const int Usage = 2;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public Option<string?> ApiUrl { get; } = new("--api-url") { Description = "The API's root (default: SKYLIGHT_API_URL, else http://127.0.0.1:5080)" };
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "The workspace's API key (default: SKYLIGHT_API_KEY)" };
    public Option<bool> AsJson { get; } = new("--json") { Description = "Print JSON instead of tables, for scripts" };
    public Option<string?> IdempotencyKey { get; } = new("--idempotency-key")
    {
        Description = "The Idempotency-Key of the command's first POST: run the command again with the same key and it is answered, not done twice",
    };

    public IAnsiConsole Console => console;

    public SkyLightClient Client(ParseResult parse, TimeSpan? pollInterval = null)
    {
        var url = parse.GetValue(ApiUrl) ?? Environment.GetEnvironmentVariable("SKYLIGHT_API_URL") ?? "http://127.0.0.1:5080";
        var key = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("SKYLIGHT_API_KEY")
            ?? throw new UsageException("No API key: pass --api-key or set SKYLIGHT_API_KEY.");
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"The API URL '{url}' is not an http(s) URL.");
        }
        var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = root;
        return new SkyLightClient(http, new SkyLightClientOptions
        {
            ApiKey = key, PollInterval = pollInterval ?? TimeSpan.FromSeconds(2), IdempotencyKey = parse.GetValue(IdempotencyKey),
        });
    }

    /// <summary>Runs a command's work and turns its failures into messages and exit codes.</summary>
    public async Task<int> RunAsync(Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (SkyLightApiException e)
        {
            console.MarkupLineInterpolated($"[red]Error {(int)e.StatusCode}:[/] {e.Message}");
            foreach (var (field, messages) in e.Errors)
            {
                console.MarkupLineInterpolated($"  {field}: {string.Join(" ", messages)}");
            }
            return ApiError;
        }
        catch (UsageException e)
        {
            console.MarkupLineInterpolated($"[red]{e.Message}[/]");
            return Usage;
        }
        catch (HttpRequestException e)
        {
            console.MarkupLineInterpolated($"[red]Could not reach the API:[/] {e.Message}");
            return ApiError;
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            console.MarkupLine("[red]The API did not answer in time.[/]");
            return ApiError;
        }
    }

    public void Write(ParseResult parse, object value, Action table)
    {
        if (parse.GetValue(AsJson))
        {
            console.WriteLine(JsonSerializer.Serialize(value, Json));
        }
        else
        {
            table();
        }
    }

    public void ChannelTable(Channel? channel, string type)
    {
        var grid = new Table().AddColumns("channel", "id", "username", "connected", "sync status", "last synced");
        grid.AddRow(type, channel?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", channel?.Username ?? "-",
            channel is null ? "-" : channel.IsConnected ? "yes" : "no", channel?.SyncStatus ?? "not connected", channel?.LastSyncedAt?.ToString("u") ?? "-");
        console.Write(grid);
    }
}

internal sealed class UsageException(string message) : Exception(message);
