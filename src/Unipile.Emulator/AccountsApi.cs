using System.Globalization;
using System.Text.Json.Nodes;

namespace Unipile.Emulator;

/// <summary>Unipile's account endpoints: connect, reconnect, get, list, delete, checkpoints.</summary>
internal static class AccountsApi
{
    private static readonly string[] SolvableProviders = ["LINKEDIN", Wire.Instagram, "TWITTER", "MESSENGER"];
    private static readonly string[] ResendableProviders = ["LINKEDIN", Wire.Instagram, "MESSENGER"];

    public static void MapAccounts(this RouteGroupBuilder api)
    {
        api.MapPost("/accounts", Create);
        api.MapGet("/accounts", List);
        api.MapPost("/accounts/checkpoint", Solve);
        api.MapPost("/accounts/checkpoint/resend", Resend);
        api.MapGet("/accounts/{id}", (HttpContext http, string id, EmulatorState state) =>
        {
            lock (state.Sync)
            {
                return state.Find(id) is { } account ? Results.Json(Render(account)) : Wire.NotFound(http, $"Account {id} not found.");
            }
        });
        api.MapPost("/accounts/{id}", Reconnect);
        api.MapDelete("/accounts/{id}", (HttpContext http, string id, EmulatorState state, Logins logins) =>
        {
            lock (state.Sync)
            {
                if (state.Find(id) is not { } account)
                {
                    return Wire.NotFound(http, $"Account {id} not found.");
                }
                state.Accounts.Remove(account);
                logins.Deleted(account);
                return Results.Json(new { @object = "AccountDeleted" });
            }
        });
    }

    public static object Render(EmulatedAccount account) => new
    {
        @object = "Account",
        type = account.Provider,
        id = account.Id,
        name = account.Name,
        created_at = Wire.Timestamp(account.CreatedAt),
        connection_params = new { im = new Dictionary<string, string>(account.Im) },
        groups = Array.Empty<string>(),
        sources = new[] { new { id = account.SourceId, status = account.Status } },
    };

    private static async Task<IResult> Create(HttpContext http, EmulatorState state, Logins logins, CancellationToken ct)
    {
        if (await Wire.ReadObjectAsync(http.Request, ct) is not { } body)
        {
            return Wire.BadRequest(http, "errors/malformed_request", "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            var provider = body.Text("provider");
            if (provider is Wire.WhatsApp or Wire.Telegram)
            {
                var account = logins.NewAccount(provider);
                account.Intent = logins.OpenIntent(reconnect: false, provider == Wire.WhatsApp ? Wire.WhatsAppQr() : Wire.TelegramQr());
                state.Accounts.Add(account);
                return QrCheckpoint(state, account);
            }
            if (provider == Wire.Instagram)
            {
                return InstagramLogin(http, body, state, logins, existing: null);
            }
            return provider is null
                ? Wire.BadRequest(http, "errors/missing_parameters", "provider is required.")
                : Wire.BadRequest(http, "errors/invalid_parameters", $"provider {provider} is not supported by the emulator.");
        }
    }

    private static async Task<IResult> Reconnect(HttpContext http, string id, EmulatorState state, Logins logins, CancellationToken ct)
    {
        if (await Wire.ReadObjectAsync(http.Request, ct) is not { } body)
        {
            return Wire.BadRequest(http, "errors/malformed_request", "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            if (state.Find(id) is not { } account)
            {
                return Wire.NotFound(http, $"Account {id} not found.");
            }
            if (body.Text("provider") != account.Provider)
            {
                return Wire.BadRequest(http, "errors/invalid_parameters", $"provider must be {account.Provider} for this account.");
            }
            if (account.Intent?.IsOpen(logins.Now) == true)
            {
                return Wire.Error(http, 425, "errors/auth_in_progress", "Too Early", "An authentication is already in progress for this account.");
            }
            if (account.Provider == Wire.Instagram)
            {
                return InstagramLogin(http, body, state, logins, account);
            }
            account.Intent = logins.OpenIntent(reconnect: true, account.Provider == Wire.WhatsApp ? Wire.WhatsAppQr() : Wire.TelegramQr());
            return QrCheckpoint(state, account);
        }
    }

    /// <summary>Scripted users follow their script; a username never registered connects at once.</summary>
    private static IResult InstagramLogin(HttpContext http, JsonObject body, EmulatorState state, Logins logins, EmulatedAccount? existing)
    {
        var username = body.Text("username");
        var password = body.Text("password");
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            return Wire.BadRequest(http, "errors/missing_parameters", "username and password are required.");
        }
        if (existing is not null && !string.Equals(existing.Im["username"], username, StringComparison.OrdinalIgnoreCase))
        {
            return Wire.Error(http, 403, "errors/account_mismatch", "Forbidden", "The credentials belong to another Instagram account.");
        }
        state.InstagramUsers.TryGetValue(username, out var user);
        if (user is not null && user.Password != password)
        {
            return Wire.Error(http, 401, "errors/invalid_credentials", "Unauthorized", "The provided credentials are invalid.");
        }
        if (existing is null && state.Accounts.Exists(a => a.Provider == Wire.Instagram && a.Im.GetValueOrDefault("username") == username && a.Intent?.IsOpen(logins.Now) == true))
        {
            return Wire.Error(http, 425, "errors/auth_in_progress", "Too Early", "An authentication is already in progress for this user.");
        }

        var account = existing ?? logins.NewAccount(Wire.Instagram);
        account.Name = username;
        account.Im["id"] = account.Im.GetValueOrDefault("id") is { Length: > 0 } id ? id : Wire.Digits(11);
        account.Im["username"] = username;
        if (existing is null)
        {
            state.Accounts.Add(account);
        }
        if (user is { Checkpoints.Count: > 0 })
        {
            account.Intent = logins.OpenIntent(existing is not null, checkpoints: user.Checkpoints, code: user.Code);
            return Results.Json(new { @object = "Checkpoint", account_id = account.Id, checkpoint = new { type = user.Checkpoints[0] } },
                statusCode: state.CheckpointStatusCode);
        }
        account.Intent = logins.OpenIntent(existing is not null);
        logins.Connected(account);
        return LoggedIn(account.Id, existing is not null);
    }

    private static async Task<IResult> Solve(HttpContext http, EmulatorState state, Logins logins, CancellationToken ct)
    {
        if (await Wire.ReadObjectAsync(http.Request, ct) is not { } body)
        {
            return Wire.BadRequest(http, "errors/malformed_request", "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            if (OpenIntentOf(http, body, SolvableProviders, state, logins, out var account) is { } problem)
            {
                return problem;
            }
            var intent = account!.Intent!;
            if (string.IsNullOrEmpty(body.Text("code")))
            {
                return Wire.BadRequest(http, "errors/missing_parameters", "code is required.");
            }
            if (body.Text("code") != intent.Code)
            {
                return Wire.Error(http, 401, "errors/invalid_checkpoint_solution", "Unauthorized", "Invalid checkpoint solution.");
            }
            intent.Checkpoints.Dequeue();
            if (intent.Checkpoints.TryPeek(out var next))
            {
                return Results.Json(new { @object = "Checkpoint", account_id = account.Id, checkpoint = new { type = next } },
                    statusCode: state.CheckpointStatusCode);
            }
            var reconnect = intent.IsReconnect;
            logins.Connected(account);
            return LoggedIn(account.Id, reconnect);
        }
    }

    private static async Task<IResult> Resend(HttpContext http, EmulatorState state, Logins logins, CancellationToken ct)
    {
        if (await Wire.ReadObjectAsync(http.Request, ct) is not { } body)
        {
            return Wire.BadRequest(http, "errors/malformed_request", "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            return OpenIntentOf(http, body, ResendableProviders, state, logins, out var account) is { } problem
                ? problem
                : Results.Json(new { @object = "CheckpointResend", account_id = account!.Id, success = true });
        }
    }

    /// <summary>
    /// Finds the account of a checkpoint call and checks its intent is open. An expired intent answers 408
    /// once, then 400: after that Unipile has forgotten it.
    /// </summary>
    private static IResult? OpenIntentOf(HttpContext http, JsonObject body, string[] providers, EmulatorState state, Logins logins, out EmulatedAccount? account)
    {
        account = null;
        var provider = body.Text("provider");
        var accountId = body.Text("account_id");
        if (provider is null || accountId is null)
        {
            return Wire.BadRequest(http, "errors/missing_parameters", "provider and account_id are required.");
        }
        if (!providers.Contains(provider))
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", $"provider must be one of {string.Join(", ", providers)}.");
        }
        account = state.Find(accountId);
        if (account is null || account.Provider != provider)
        {
            return Wire.NotFound(http, $"Account {accountId} not found.");
        }
        if (account.Intent is not { Checkpoints.Count: > 0 } intent)
        {
            return Wire.BadRequest(http, "errors/invalid_request", "No checkpoint is waiting for this account.");
        }
        if (!intent.IsOpen(logins.Now))
        {
            if (intent.TimeoutReported)
            {
                return Wire.BadRequest(http, "errors/invalid_request", "The authentication intent has expired. Start a new one.");
            }
            intent.TimeoutReported = true;
            return Wire.Error(http, 408, "errors/request_timeout", "Request Timeout", "The authentication intent has expired.");
        }
        return null;
    }

    private static IResult List(HttpContext http, EmulatorState state, string? cursor, string? limit)
    {
        var size = 100;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > 250))
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", "limit must be an integer from 1 to 250.");
        }
        var start = 0;
        if (cursor is not null && !TryDecodeCursor(cursor, out start))
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", "cursor is not valid.");
        }
        lock (state.Sync)
        {
            var page = state.Accounts.Skip(start).Take(size).Select(Render).ToList();
            var next = start + size < state.Accounts.Count ? EncodeCursor(start + size) : null;
            return Results.Json(new { @object = "AccountList", items = page, cursor = next });
        }
    }

    private static IResult QrCheckpoint(EmulatorState state, EmulatedAccount account) =>
        Results.Json(new { @object = "Checkpoint", account_id = account.Id, checkpoint = new { type = "QRCODE", qrcode = account.Intent!.QrCode } },
            statusCode: state.CheckpointStatusCode);

    private static IResult LoggedIn(string accountId, bool reconnect) =>
        Results.Json(new { @object = reconnect ? "AccountReconnected" : "AccountCreated", account_id = accountId }, statusCode: 201);

    private static string EncodeCursor(int offset) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"offset:{offset}"));

    private static bool TryDecodeCursor(string cursor, out int offset)
    {
        offset = 0;
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            return text.StartsWith("offset:", StringComparison.Ordinal) &&
                int.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
