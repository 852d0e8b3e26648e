using System.Text.Json.Nodes;

namespace Unipile.Emulator;

internal static class WebhooksApi
{
    private static readonly string[] Sources = ["messaging", "account_status", "email", "email_tracking", "users", "calendar_event"];

    public static void MapWebhooks(this RouteGroupBuilder api)
    {
        api.MapPost("/webhooks", Create);
        api.MapGet("/webhooks", (EmulatorState state) =>
        {
            lock (state.Sync)
            {
                return Results.Json(new { @object = "WebhookList", items = state.Webhooks.Select(w => Render(w, state)).ToList(), cursor = (string?)null });
            }
        });
        api.MapDelete("/webhooks/{id}", (HttpContext http, string id, EmulatorState state) =>
        {
            lock (state.Sync)
            {
                return state.Webhooks.RemoveAll(w => w.Id == id) == 1
                    ? Results.Json(new { @object = "WebhookDeleted" })
                    : Wire.NotFound(http, $"Webhook {id} not found.");
            }
        });
    }

    private static async Task<IResult> Create(HttpContext http, EmulatorState state, CancellationToken ct)
    {
        if (await Wire.ReadObjectAsync(http.Request, ct) is not { } body)
        {
            return Wire.BadRequest(http, "errors/malformed_request", "The body must be a JSON object.");
        }
        var url = body.Text("request_url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Wire.BadRequest(http, "errors/invalid_url", "request_url must be an absolute http(s) URL.");
        }
        var source = body.Text("source");
        if (source is null || !Sources.Contains(source))
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", $"source must be one of {string.Join(", ", Sources)}.");
        }

        var format = body.Text("format") ?? "json";
        if (format is not ("json" or "form"))
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", "format must be json or form.");
        }
        var headers = (body["headers"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(h => KeyValuePair.Create(h.Text("key") ?? "", h.Text("value") ?? ""))
            .Where(h => h.Key.Length > 0)
            .ToList();
        var accountIds = body["account_ids"] is null ? [] : body.Strings("account_ids");
        if (accountIds is null)
        {
            return Wire.BadRequest(http, "errors/invalid_parameters", "account_ids must be an array of account ids.");
        }
        var webhook = new RegisteredWebhook(Wire.NewId(), url!, source, body.Text("name") ?? "", format,
            body["enabled"] is JsonValue enabled && enabled.TryGetValue<bool>(out var on) ? on : true, accountIds, headers);
        lock (state.Sync)
        {
            state.Webhooks.Add(webhook);
        }
        return Results.Json(new { @object = "WebhookCreated", webhook_id = webhook.Id }, statusCode: 201);
    }

    private static object Render(RegisteredWebhook webhook, EmulatorState state) => new
    {
        @object = "Webhook",
        id = webhook.Id,
        type = "AUTO",
        account_ids = webhook.AccountIds.Select(id => new { id, type = state.Find(id)?.Provider ?? Wire.WhatsApp }).ToList(),
        enabled = webhook.Enabled,
        name = webhook.Name,
        request_url = webhook.RequestUrl,
        format = webhook.Format,
        source = webhook.Source,
        headers = webhook.Headers.Select(h => new { key = h.Key, value = h.Value }).ToList(),
        data = Array.Empty<object>(),
    };
}
