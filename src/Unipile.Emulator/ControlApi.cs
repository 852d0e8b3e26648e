using System.Text.Json.Nodes;

namespace Unipile.Emulator;

/// <summary>
/// Test controls outside Unipile's namespace: play the end user (scan, approve), flip statuses, script
/// Instagram logins, inject faults, and inspect what was sent. No API key: they are not Unipile's.
/// </summary>
internal static class ControlApi
{
    private static readonly string[] SourceStatuses = ["OK", "CONNECTING", "CREDENTIALS", "ERROR", "STOPPED"];

    public static void MapEmulatorControls(this IEndpointRouteBuilder app)
    {
        var control = app.MapGroup("/_emulator");
        control.MapPost("/accounts/{id}/scan", Scan);
        control.MapPost("/accounts/{id}/status", SetStatus);
        control.MapPost("/accounts/{id}/expire", (string id, EmulatorState state, Logins logins) =>
        {
            lock (state.Sync)
            {
                if (state.Find(id) is not { } account)
                {
                    return Problem(404, $"No account {id}.");
                }
                if (account.Intent is not { } intent || !intent.IsOpen(logins.Now))
                {
                    return Problem(409, "The account has no open authentication intent.");
                }
                intent.ExpiresAt = logins.Now;
                return Results.Json(Describe(account, logins.Now));
            }
        });
        control.MapGet("/accounts", (EmulatorState state, Logins logins) =>
        {
            lock (state.Sync)
            {
                return Results.Json(state.Accounts.Select(a => Describe(a, logins.Now)).ToList());
            }
        });
        control.MapGet("/requests", (EmulatorState state) =>
        {
            lock (state.Sync)
            {
                return Results.Json(state.Requests.Select(r => new { method = r.Method, path = r.Path, at = Wire.Timestamp(r.At) }).ToList());
            }
        });
        control.MapPost("/settings", Settings);
        control.MapPost("/instagram/users", RegisterInstagramUser);
        control.MapPost("/faults", AddFault);
        control.MapDelete("/faults", (EmulatorState state) =>
        {
            lock (state.Sync)
            {
                state.Faults.Clear();
                state.LatencyMs = 0;
            }
            return Results.NoContent();
        });
        control.MapGet("/webhook-deliveries", (WebhookDispatcher webhooks) => Results.Json(webhooks.Attempts.Select(a => new
        {
            delivery_id = a.DeliveryId,
            webhook_id = a.WebhookId,
            request_url = a.RequestUrl,
            account_id = a.AccountId,
            message = a.Message,
            attempt = a.Attempt,
            response_status = a.ResponseStatus,
            error = a.Error,
            at = Wire.Timestamp(a.At),
        }).ToList()));
        control.MapPost("/reset", (EmulatorState state, WebhookDispatcher webhooks) =>
        {
            lock (state.Sync)
            {
                state.Reset();
            }
            webhooks.ClearAttempts();
            return Results.NoContent();
        });
    }

    /// <summary>The end user scanned the QR: WhatsApp connects now, Telegram confirms a little later.</summary>
    private static async Task<IResult> Scan(HttpContext http, string id, EmulatorState state, Logins logins, CancellationToken ct)
    {
        var body = await OptionalBodyAsync(http, ct);
        if (body is null)
        {
            return Problem(400, "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            if (state.Find(id) is not { } account)
            {
                return Problem(404, $"No account {id}.");
            }
            if (account.Intent is not { AwaitsScan: true } intent)
            {
                return Problem(409, "The account is not waiting for a QR scan.");
            }
            if (!intent.IsOpen(logins.Now))
            {
                return Problem(410, "The QR code expired; the account must start a new authentication.");
            }
            if (account.Provider == Wire.WhatsApp)
            {
                account.Im["phone_number"] = body.Text("phone_number") ?? NonEmpty(account.Im["phone_number"]) ?? "9665" + Wire.Digits(8);
                account.Name = body.Text("name") ?? account.Im["phone_number"];
            }
            else
            {
                account.Im["user_id"] = NonEmpty(account.Im["user_id"]) ?? Wire.Digits(10);
                account.Im["username"] = body.Text("username") ?? body.Text("phone_number") ?? NonEmpty(account.Im["username"]) ?? $"tg_user_{Wire.Digits(6)}";
                account.Name = body.Text("name") ?? account.Im["username"];
            }
            logins.Connected(account);
            return Results.Json(Describe(account, logins.Now));
        }
    }

    private static async Task<IResult> SetStatus(HttpContext http, string id, EmulatorState state, Logins logins, CancellationToken ct)
    {
        var body = await Wire.ReadObjectAsync(http.Request, ct);
        var status = body?.Text("status");
        if (status is null || !SourceStatuses.Contains(status))
        {
            return Problem(400, $"status must be one of {string.Join(", ", SourceStatuses)}.");
        }
        lock (state.Sync)
        {
            if (state.Find(id) is not { } account)
            {
                return Problem(404, $"No account {id}.");
            }
            logins.SetStatus(account, status, notify: body!["notify"] is not JsonValue notify || !notify.TryGetValue<bool>(out var send) || send);
            return Results.Json(Describe(account, logins.Now));
        }
    }

    private static async Task<IResult> Settings(HttpContext http, EmulatorState state, CancellationToken ct)
    {
        var body = await Wire.ReadObjectAsync(http.Request, ct);
        if (body is null)
        {
            return Problem(400, "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            if (body["deliver_webhooks"] is JsonValue deliver && deliver.TryGetValue<bool>(out var on))
            {
                state.DeliverWebhooks = on;
            }
            if (body["checkpoint_status_code"] is JsonValue code && code.TryGetValue<int>(out var status))
            {
                if (status is not (201 or 202))
                {
                    return Problem(400, "checkpoint_status_code must be 201 or 202.");
                }
                state.CheckpointStatusCode = status;
            }
            return Results.Json(new { deliver_webhooks = state.DeliverWebhooks, checkpoint_status_code = state.CheckpointStatusCode });
        }
    }

    private static async Task<IResult> RegisterInstagramUser(HttpContext http, EmulatorState state, CancellationToken ct)
    {
        var body = await Wire.ReadObjectAsync(http.Request, ct);
        var username = body?.Text("username");
        var password = body?.Text("password");
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            return Problem(400, "username and password are required.");
        }
        var checkpoints = body!["checkpoints"] is null ? [] : body.Strings("checkpoints");
        if (checkpoints is null)
        {
            return Problem(400, "checkpoints must be an array of checkpoint types such as OTP or 2FA.");
        }
        var user = new InstagramUser(username, password, checkpoints, body.Text("code") ?? "123456");
        lock (state.Sync)
        {
            state.InstagramUsers[username] = user;
        }
        return Results.Json(new { username, checkpoints, code = user.Code }, statusCode: 201);
    }

    private static async Task<IResult> AddFault(HttpContext http, EmulatorState state, CancellationToken ct)
    {
        var body = await Wire.ReadObjectAsync(http.Request, ct);
        if (body is null)
        {
            return Problem(400, "The body must be a JSON object.");
        }
        lock (state.Sync)
        {
            if (body["latency_ms"] is JsonValue latency && latency.TryGetValue<int>(out var ms))
            {
                state.LatencyMs = Math.Max(0, ms);
                return Results.Json(new { latency_ms = state.LatencyMs }, statusCode: 201);
            }
            var fault = new Fault
            {
                Method = body.Text("method"),
                Path = body.Text("path"),
                Status = body["status"] is JsonValue s && s.TryGetValue<int>(out var status) ? status : null,
                Count = body["count"] is JsonValue c && c.TryGetValue<int>(out var count) ? count : 1,
                DelayMs = body["delay_ms"] is JsonValue d && d.TryGetValue<int>(out var delay) ? delay : 0,
                AnswerDelayMs = body["answer_delay_ms"] is JsonValue a && a.TryGetValue<int>(out var answerDelay) ? answerDelay : 0,
                ContentType = body.Text("content_type"),
                Body = body.Text("body"),
            };
            if (fault.Count < 1 || fault.Status is < 400 or > 599 || (fault.Body is not null && fault.Status is null) ||
                (fault.Status is null && fault.DelayMs == 0 && fault.AnswerDelayMs == 0 && fault.ContentType is null))
            {
                return Problem(400, "A fault needs count >= 1 and an error status (400-599, optionally with a raw body), a delay_ms, an answer_delay_ms or a content_type.");
            }
            state.Faults.Add(fault);
            return Results.Json(new { method = fault.Method, path = fault.Path, status = fault.Status, count = fault.Count, delay_ms = fault.DelayMs, answer_delay_ms = fault.AnswerDelayMs, content_type = fault.ContentType }, statusCode: 201);
        }
    }

    private static object Describe(EmulatedAccount account, DateTimeOffset now) => new
    {
        id = account.Id,
        provider = account.Provider,
        status = account.Status,
        name = account.Name,
        connection_params = new Dictionary<string, string>(account.Im),
        intent = account.Intent is not { } intent ? null : new
        {
            kind = intent.IsReconnect ? "reconnect" : "create",
            state = intent.IsOpen(now) ? "open" : "expired",
            awaiting = intent.AwaitsScan ? "scan" : "checkpoint",
            checkpoint_type = intent.Checkpoints.TryPeek(out var type) ? type : null,
            qrcode = intent.QrCode,
            expires_at = Wire.Timestamp(intent.ExpiresAt),
        },
    };

    /// <summary>An empty body counts as <c>{}</c>: the scan route's fields are all optional.</summary>
    private static async Task<JsonObject?> OptionalBodyAsync(HttpContext http, CancellationToken ct) =>
        http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.ContainsKey("Transfer-Encoding"))
            ? []
            : await Wire.ReadObjectAsync(http.Request, ct);

    private static string? NonEmpty(string value) => value.Length > 0 ? value : null;

    private static IResult Problem(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
