using System.CommandLine;
using System.Globalization;
using SkyLight.Sdk;
using Spectre.Console;

namespace SkyLight.Cli;

/// <summary><c>skylight webhooks list|create|delete|test|deliveries|redeliver</c>: outgoing webhook endpoints and their delivery log.</summary>
internal static class WebhooksCommands
{
    /// <summary>How long <c>webhooks test</c> waits for the receiver's answer before it stops watching.</summary>
    public static readonly TimeSpan TestWait = TimeSpan.FromSeconds(5);

    public static Command Build(Cli cli, TimeSpan pollInterval) => new("webhooks", "Endpoints that receive the channels' events, and their deliveries")
    {
        List(cli), Create(cli), Delete(cli), Test(cli, pollInterval), Deliveries(cli), Redeliver(cli),
    };

    private static Command List(Cli cli)
    {
        var page = new Option<int>("--page") { Description = "Page number", DefaultValueFactory = _ => 1 };
        var list = new Command("list", "List the workspace's webhook endpoints, newest first") { page };
        list.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var endpoints = await cli.Client(parse).Webhooks.ListAsync(parse.GetValue(page), cancellationToken: ct);
            cli.Write(parse, endpoints, () =>
            {
                var table = new Table().AddColumns("id", "name", "url", "events", "active", "created");
                foreach (var endpoint in endpoints.Items)
                {
                    table.AddRow(Markup.Escape(Id(endpoint.Id)), Markup.Escape(endpoint.Name), Markup.Escape(endpoint.Url), Markup.Escape(string.Join(", ", endpoint.Events)),
                        Markup.Escape(endpoint.IsActive ? "yes" : endpoint.DisabledReason is { } reason ? $"no: {reason}" : "no"), endpoint.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
                }
                cli.Console.Write(table);
                cli.Console.MarkupLineInterpolated($"page {endpoints.CurrentPage} of {endpoints.LastPage}, {endpoints.Total} in all");
            });
            return Cli.Ok;
        }));
        return list;
    }

    private static Command Create(Cli cli)
    {
        var name = new Option<string>("--name") { Description = "The endpoint's name", Required = true };
        var url = new Option<string>("--url") { Description = "Where deliveries are POSTed (https)", Required = true };
        var events = new Option<string>("--events")
        {
            Description = "Event types, comma-separated: channel.connected,channel.status_changed,… or * for all (default *)",
            DefaultValueFactory = _ => WebhookEvents.All,
        };
        var create = new Command("create", "Register an endpoint; prints its signing secret, this once") { name, url, events };
        create.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var types = parse.GetValue(events)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (types.Length == 0)
            {
                throw new UsageException("--events needs at least one event type (or * for all).");
            }
            var endpoint = await cli.Client(parse).Webhooks.CreateAsync(parse.GetValue(name)!, parse.GetValue(url)!, types, ct);
            cli.Write(parse, endpoint, () =>
            {
                cli.Console.MarkupLineInterpolated($"[green]Webhook endpoint {Id(endpoint.Id)}[/] [bold]{endpoint.Name}[/] → {endpoint.Url} ({string.Join(", ", endpoint.Events)})");
                cli.Console.MarkupLineInterpolated($"Signing secret: [bold]{endpoint.Secret}[/]");
                cli.Console.MarkupLine("[yellow]Keep this secret now: it is not shown again.[/] Verify each delivery's X-Skylight-Signature with it.");
            });
            return Cli.Ok;
        }));
        return create;
    }

    private static Command Delete(Cli cli)
    {
        var id = EndpointId();
        var delete = new Command("delete", "Delete an endpoint and its delivery log") { id };
        delete.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            await cli.Client(parse).Webhooks.DeleteAsync(parse.GetValue(id), ct);
            cli.Write(parse, new { deleted = parse.GetValue(id) }, () => cli.Console.MarkupLineInterpolated($"[green]Webhook endpoint {Id(parse.GetValue(id))} deleted.[/]"));
            return Cli.Ok;
        }));
        return delete;
    }

    /// <summary>Sends a test event, then watches its delivery for the receiver's first answer (a few seconds at most).</summary>
    private static Command Test(Cli cli, TimeSpan pollInterval)
    {
        var id = EndpointId();
        var test = new Command("test", $"Send a webhook.test event and show the receiver's answer (waits up to {TestWait.TotalSeconds:0} s)") { id };
        test.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var client = cli.Client(parse);
            var endpointId = parse.GetValue(id);
            var delivery = await client.Webhooks.TestAsync(endpointId, ct);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TestWait);
            var interval = pollInterval < TimeSpan.FromMilliseconds(500) ? pollInterval : TimeSpan.FromMilliseconds(500);
            try
            {
                while (delivery.AttemptLog is null or [])
                {
                    await Task.Delay(interval, wait.Token);
                    delivery = await client.Webhooks.GetDeliveryAsync(endpointId, delivery.DeliveryId, wait.Token);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // no answer within the wait: said below, and the delivery goes on without us
            }
            var delivered = delivery.Status == "delivered";
            cli.Write(parse, delivery, () => ShowTest(cli, endpointId, delivery));
            return delivered ? Cli.Ok : Cli.ApiError;
        }));
        return test;
    }

    private static void ShowTest(Cli cli, int endpointId, WebhookDelivery delivery)
    {
        var console = cli.Console;
        if (delivery.AttemptLog is not [.., var attempt])
        {
            console.MarkupLineInterpolated($"[yellow]No answer within {TestWait.TotalSeconds:0} s[/]: delivery {delivery.DeliveryId} is still {delivery.Status}.");
            console.MarkupLineInterpolated($"See it later with: skylight webhooks deliveries {Id(endpointId)}");
            return;
        }
        var status = attempt.ResponseStatus is { } code ? Id(code) : "no answer";
        if (delivery.Status == "delivered")
        {
            console.MarkupLineInterpolated($"[green]Delivered[/] {delivery.Event} {delivery.DeliveryId}: the receiver answered {status} in {attempt.DurationMs} ms.");
        }
        else
        {
            console.MarkupLineInterpolated($"[red]Not delivered[/] {delivery.Event} {delivery.DeliveryId}: {attempt.Error ?? status} (after {attempt.DurationMs} ms).");
        }
        if (attempt.ResponseBody is { Length: > 0 } body)
        {
            console.MarkupLineInterpolated($"Receiver's answer: {body}");
        }
        if (delivery.Status == "pending" && delivery.NextAttemptAt is { } next)
        {
            console.MarkupLineInterpolated($"It is tried again at {next.ToString("u", CultureInfo.InvariantCulture)}; or now with: skylight webhooks redeliver {Id(endpointId)} {delivery.DeliveryId}");
        }
    }

    private static Command Deliveries(Cli cli)
    {
        var id = EndpointId();
        var status = new Option<string?>("--status") { Description = "Only deliveries in this status: pending, delivered or failed" };
        status.AcceptOnlyFromAmong("pending", "delivered", "failed");
        var page = new Option<int>("--page") { Description = "Page number", DefaultValueFactory = _ => 1 };
        var deliveries = new Command("deliveries", "An endpoint's deliveries, newest first") { id, status, page };
        deliveries.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var result = await cli.Client(parse).Webhooks.ListDeliveriesAsync(parse.GetValue(id), parse.GetValue(status), parse.GetValue(page), cancellationToken: ct);
            cli.Write(parse, result, () =>
            {
                var table = new Table().AddColumns("delivery id", "event", "status", "attempts", "last answer", "last error", "created");
                foreach (var delivery in result.Items)
                {
                    table.AddRow(Markup.Escape(delivery.DeliveryId.ToString()), Markup.Escape(delivery.Event), Markup.Escape(delivery.Status), Id(delivery.Attempts),
                        delivery.LastResponseStatus is { } code ? Id(code) : "-", Markup.Escape(delivery.LastError ?? "-"),
                        delivery.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
                }
                cli.Console.Write(table);
                cli.Console.MarkupLineInterpolated($"page {result.CurrentPage} of {result.LastPage}, {result.Total} in all");
            });
            return Cli.Ok;
        }));
        return deliveries;
    }

    private static Command Redeliver(Cli cli)
    {
        var id = EndpointId();
        var deliveryId = new Argument<Guid>("delivery-id") { Description = "The delivery's id (a UUID, from webhooks deliveries)" };
        var redeliver = new Command("redeliver", "Send a delivery again now, with the same delivery id") { id, deliveryId };
        redeliver.SetAction((parse, ct) => cli.RunAsync(async () =>
        {
            var delivery = await cli.Client(parse).Webhooks.RedeliverAsync(parse.GetValue(id), parse.GetValue(deliveryId), ct);
            cli.Write(parse, delivery, () => cli.Console.MarkupLineInterpolated($"[green]Delivery {delivery.DeliveryId} queued again[/] ({delivery.Event}, {delivery.Status})."));
            return Cli.Ok;
        }));
        return redeliver;
    }

    private static Argument<int> EndpointId() => new("id") { Description = "The webhook endpoint's id" };

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);
}
