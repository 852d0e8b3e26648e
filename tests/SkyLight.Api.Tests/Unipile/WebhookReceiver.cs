using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SkyLight.Api.Tests.Unipile;

/// <summary>A real HTTP endpoint that records every webhook it gets and answers with scripted statuses.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<int> _answers = new();
    private WebApplication _app = null!;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public string Url { get; private set; } = "";

    /// <summary>Answered once each, in order; after that every delivery gets <see cref="DefaultAnswer"/>.</summary>
    public void AnswerWith(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _answers.Enqueue(status);
        }
    }

    public int DefaultAnswer { get; set; } = 200;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
        receiver._app = builder.Build();
        receiver._app.MapPost("/unipile", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver.Received.Enqueue(new ReceivedWebhook(headers, await reader.ReadToEndAsync()));
            return Results.StatusCode(receiver._answers.TryDequeue(out var status) ? status : receiver.DefaultAnswer);
        });
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = $"{address}/unipile";
        return receiver;
    }

    /// <summary>Waits until <paramref name="count"/> deliveries arrived (or fails after a few seconds).</summary>
    public async Task<ReceivedWebhook[]> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
        while (Received.Count < count)
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail($"expected {count} webhooks, got {Received.Count}: {string.Join(" | ", Received.Select(r => r.Body))}");
            }
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        return [.. Received];
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedWebhook(IReadOnlyDictionary<string, string> Headers, string Body);
