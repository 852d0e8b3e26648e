using System.Net;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>
/// The service on a fake clock, with a receiver of its own. Deliveries of <c>webhook.test</c> need no Unipile, so every
/// retry, timeout and expiry here happens when the test moves the clock. No jitter: the schedule is exact.
/// </summary>
public class WebhooksApp : SkyLightApp, IAsyncLifetime
{
    public WebhooksApp()
    {
        Settings["Webhooks:RetryJitter"] = "0";
        Settings["RateLimiting:PermitLimit"] = "100000";   // the tests poll the delivery log while they wait
    }

    public WebhookReceiver Receiver { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Receiver = await WebhookReceiver.StartAsync();

    /// <summary>
    /// Moves the fake clock and wakes the sender: a loop that found nothing due and went to sleep just as the clock moved
    /// set its timer after the move, and the fake clock never reaches it; the real clock always does.
    /// </summary>
    public void Advance(TimeSpan by)
    {
        Time.Advance(by);
        Services.GetRequiredService<SkyLight.Api.Notifications.WebhookSender>().Wake();
    }

    public override async ValueTask DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Typed views of the webhook API's answers, and the calls the tests make.</summary>
internal static class WebhookApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<Endpoint> CreateAsync(HttpClient client, Uri url, params string[] events)
    {
        var response = await client.PostAsJsonAsync("/api/v1/webhooks", new { name = "Orders", url = url.ToString(), events = events.Length == 0 ? ["*"] : events }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await DataAsync<Endpoint>(response);
    }

    public static async Task<Endpoint> GetAsync(HttpClient client, int id) => await DataAsync<Endpoint>(await client.GetAsync($"/api/v1/webhooks/{id}", Ct));

    public static async Task<Delivery> TestAsync(HttpClient client, int id)
    {
        var response = await client.PostAsync($"/api/v1/webhooks/{id}/test", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await DataAsync<Delivery>(response);
    }

    public static async Task<Delivery> DeliveryAsync(HttpClient client, int id, Guid deliveryId) =>
        await DataAsync<Delivery>(await client.GetAsync($"/api/v1/webhooks/{id}/deliveries/{deliveryId}", Ct));

    /// <summary>Waits until the delivery log shows the condition, and returns the delivery as it then was.</summary>
    public static async Task<Delivery> WaitForDeliveryAsync(HttpClient client, int id, Guid deliveryId, Func<Delivery, bool> until, string because)
    {
        Delivery delivery = null!;
        try
        {
            await Channels.ChannelsApp.WaitUntilAsync(async () => until(delivery = await DeliveryAsync(client, id, deliveryId)), because);
        }
        catch (Xunit.Sdk.FailException)
        {
            Assert.Fail($"{because}; the delivery was last {delivery} with attempts [{string.Join("; ", delivery.AttemptLog ?? [])}]");
        }
        return delivery;
    }

    public static async Task<T> DataAsync<T>(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return (await response.Content.ReadFromJsonAsync<Envelope<T>>(Json, Ct))!.Data;
    }

    public static async Task<Page<T>> PageAsync<T>(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Page<T>>(Json, Ct))!;
    }

    public sealed record Envelope<T>(bool Success, T Data, string? Message);

    public sealed record Page<T>(bool Success, T[] Data, PageMeta Meta);

    public sealed record PageMeta(int CurrentPage, int LastPage, int PerPage, int Total);

    public sealed record Endpoint(int Id, string Name, string Url, string[] Events, bool IsActive, string? DisabledReason, string? PreviousSecretExpiresAt,
        string CreatedAt, string UpdatedAt, string? Secret);

    public sealed record Delivery(Guid DeliveryId, string Event, long? EventId, string Status, int Attempts, int? LastResponseStatus, string? LastError,
        string? NextAttemptAt, string? DeliveredAt, string CreatedAt, JsonElement? Data, Attempt[]? AttemptLog);

    public sealed record Attempt(string AttemptedAt, int DurationMs, int? ResponseStatus, string? ResponseBody, string? Error);
}
