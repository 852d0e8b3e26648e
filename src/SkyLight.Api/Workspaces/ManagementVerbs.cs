using System.Globalization;
using System.Text.Json;
using SkyLight.Api.Data;

namespace SkyLight.Api.Workspaces;

/// <summary>
/// <c>workspaces …</c> and <c>keys …</c>: verbs of the service binary that act on the configured database and
/// exit without starting the web server. Output is one JSON line on stdout; problems go to stderr.
/// </summary>
internal static class ManagementVerbs
{
    public const int UsageError = 2;
    public const int Failure = 1;

    public const string Usage = """
        Usage:
          SkyLight.Api workspaces create --name <name> [--timezone <IANA zone, default Asia/Riyadh>]
          SkyLight.Api workspaces deactivate --id <workspace id>
          SkyLight.Api keys create --workspace <workspace id>
          SkyLight.Api keys revoke --prefix <key prefix, e.g. sk_live_abcd1234>
        Without a verb the service starts. The database is the one in ConnectionStrings:Default
        (environment variable ConnectionStrings__Default).
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>True when the arguments name a verb rather than web-server switches such as <c>--urls</c>.</summary>
    public static bool IsInvocation(string[] args) => args.Length > 0 && !args[0].StartsWith('-');

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (Parse(args) is not { } command)
        {
            await stderr.WriteLineAsync(Usage);
            return UsageError;
        }
        if (command.Problem is not null)
        {
            await stderr.WriteLineAsync($"error: {command.Problem}{Environment.NewLine}{Usage}");
            return UsageError;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await DatabaseSetup.MigrateAsync(db, CancellationToken.None);
        var provisioning = scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>();
        var (result, problem) = await command.Run(provisioning);
        if (problem is not null)
        {
            await stderr.WriteLineAsync($"error: {problem}");
            return Failure;
        }
        await stdout.WriteLineAsync(JsonSerializer.Serialize(result, Json));
        return 0;
    }

    private static Command? Parse(string[] args)
    {
        if (args.Length < 2 || !TryReadOptions(args.AsSpan(2), out var options))
        {
            return null;
        }
        return (args[0], args[1]) switch
        {
            ("workspaces", "create") => WorkspacesCreate(options),
            ("workspaces", "deactivate") => Only(options, "id") ?? WithId(options, "id", id => async p =>
                await p.DeactivateAsync(id, default) ? (new { workspace_id = id, active = false }, null) : (null, $"no workspace has id {id}")),
            ("keys", "create") => Only(options, "workspace") ?? WithId(options, "workspace", id => async p =>
                await p.CreateKeyAsync(id, default) is { } key ? (new { api_key = key }, null) : (null, $"no workspace has id {id}")),
            ("keys", "revoke") => Only(options, "prefix") ?? KeysRevoke(options),
            _ => null,
        };
    }

    private static Command WorkspacesCreate(Dictionary<string, string> options)
    {
        if (Only(options, "name", "timezone") is { } unknown)
        {
            return unknown;
        }
        var name = options.GetValueOrDefault("name")?.Trim();
        var zone = options.GetValueOrDefault("timezone") ?? Workspace.DefaultTimeZone;
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            return Command.Invalid("--name is required (1 to 100 characters)");
        }
        if (WorkspaceTime.FindZone(zone) is null)
        {
            return Command.Invalid($"--timezone '{zone}' is not an IANA time zone (e.g. Asia/Riyadh)");
        }
        return new Command(async p =>
        {
            var (workspace, key) = await p.CreateWorkspaceAsync(name, zone, default);
            return (new { workspace_id = workspace.Id, api_key = key }, null);
        });
    }

    private static Command KeysRevoke(Dictionary<string, string> options)
    {
        var prefix = options.GetValueOrDefault("prefix") ?? "";
        if (!prefix.StartsWith(ApiKey.KeyPrefix, StringComparison.Ordinal) || prefix.Length < ApiKey.KeyPrefix.Length + 4)
        {
            return Command.Invalid($"--prefix must start with {ApiKey.KeyPrefix} and at least 4 more characters");
        }
        return new Command(async p =>
        {
            var outcome = await p.RevokeKeyAsync(prefix, default);
            return outcome.RevokedPrefix is { } revoked ? (new { revoked }, null) : (null, outcome.Problem);
        });
    }

    private static Command WithId(Dictionary<string, string> options, string name, Func<int, Func<WorkspaceProvisioning, Task<(object?, string?)>>> run) =>
        int.TryParse(options.GetValueOrDefault(name), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? new Command(run(id))
            : Command.Invalid($"--{name} must be a positive integer");

    private static Command? Only(Dictionary<string, string> options, params string[] allowed) =>
        options.Keys.FirstOrDefault(k => !allowed.Contains(k)) is { } unknown ? Command.Invalid($"unknown option --{unknown}") : null;

    private static bool TryReadOptions(ReadOnlySpan<string> args, out Dictionary<string, string> options)
    {
        options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length || !options.TryAdd(args[i][2..], args[i + 1]))
            {
                return false;
            }
        }
        return true;
    }

    private sealed record Command(Func<WorkspaceProvisioning, Task<(object? Result, string? Problem)>> Run, string? Problem = null)
    {
        public static Command Invalid(string problem) => new(_ => Task.FromResult<(object?, string?)>((null, problem)), problem);
    }
}
