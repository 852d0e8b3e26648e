using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Cli;
using SkyLight.Sdk;

namespace SkyLight.Api.Tests.Idempotency;

/// <summary>The SDK's keys: one per POST, kept across its retries; a key of the caller's; the CLI's option; the docs.</summary>
public sealed class IdempotencySdkTests(ChannelsApp app) : IClassFixture<ChannelsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APostWhoseAnswerWasLostIsSentAgainWithItsKeyAndDoneOnce()
    {
        var workspace = await app.NewWorkspaceAsync();
        var lossy = new LosesFirstAnswer();
        using var http = app.CreateDefaultClient(lossy);
        http.BaseAddress = app.CreateClient().BaseAddress;
        var client = new SkyLightClient(http, new SkyLightClientOptions { ApiKey = workspace.ApiKey, TransportRetryDelay = TimeSpan.FromMilliseconds(50) });

        var link = await client.ConnectLinks.CreateAsync(new ConnectLinkRequest { Type = "whatsapp" }, Ct);
        var another = await client.ConnectLinks.CreateAsync(new ConnectLinkRequest { Type = "whatsapp" }, Ct);

        Assert.Equal(3, lossy.Keys.Count);   // the lost try, its retry, and the next create
        var keys = lossy.Keys.ToArray();
        Assert.Equal(keys[0], keys[1]);
        Assert.NotEqual(keys[1], keys[2]);
        Assert.NotNull(link.Url);   // the replay carries the first answer, URL included
        Assert.Equal([link.Id, another.Id], await LinkIdsAsync(workspace));
    }

    [Fact]
    public async Task ACallersKeyMakesItsOwnRetryAReplay()
    {
        var workspace = await app.NewWorkspaceAsync();
        var client = new SkyLightClient(app.CreateClient(), new SkyLightClientOptions { ApiKey = workspace.ApiKey });

        ConnectLink first, second;
        using (SkyLightIdempotency.UseKey("order-42"))
        {
            first = await client.ConnectLinks.CreateAsync(new ConnectLinkRequest { Type = "telegram", State = "order-42" }, Ct);
        }
        using (SkyLightIdempotency.UseKey("order-42"))
        {
            second = await client.ConnectLinks.CreateAsync(new ConnectLinkRequest { Type = "telegram", State = "order-42" }, Ct);
        }

        Assert.Equal(first, second);
        Assert.Equal([first.Id], await LinkIdsAsync(workspace));
    }

    [Fact]
    public async Task TheCliOptionKeysTheCommandsRequest()
    {
        var workspace = await app.NewWorkspaceAsync();
        var once = new CliConsole();
        var again = new CliConsole();
        string[] args = ["channels", "link", "whatsapp", "--idempotency-key", "cli-1", "--json",
            "--api-url", app.CreateClient().BaseAddress!.ToString(), "--api-key", workspace.ApiKey];

        Assert.Equal(0, await SkyLight.Cli.Program.RunAsync(args, once, cancellationToken: Ct));
        Assert.Equal(0, await SkyLight.Cli.Program.RunAsync(args, again, cancellationToken: Ct));

        Assert.Equal(JsonDocument.Parse(once.Output).RootElement.GetProperty("id").GetString(), JsonDocument.Parse(again.Output).RootElement.GetProperty("id").GetString());
        Assert.Single(await LinkIdsAsync(workspace));
    }

    [Fact]
    public async Task EveryPostDocumentsTheHeader()
    {
        var document = await (await app.CreateClient().GetAsync("/openapi/v1.json", Ct)).BodyAsync();
        var posts = document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/v1", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Where(o => o.Name == "post").Select(o => (p.Name, Operation: o.Value))).ToList();

        Assert.NotEmpty(posts);
        Assert.All(posts, post => Assert.Contains(post.Operation.GetProperty("parameters").EnumerateArray(),
            p => p.GetProperty("name").GetString() == "Idempotency-Key" && p.GetProperty("in").GetString() == "header"));
    }

    private async Task<List<Guid>> LinkIdsAsync(TestWorkspace workspace)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SkyLightDb>().ConnectLinks.IgnoreQueryFilters()
            .Where(l => l.WorkspaceId == workspace.Id).OrderBy(l => l.CreatedAt).ThenBy(l => l.Id).Select(l => l.Id).ToListAsync(Ct);
    }

    /// <summary>Lets the first POST reach the service, then loses its answer, as a dropped mobile connection does.</summary>
    private sealed class LosesFirstAnswer : DelegatingHandler
    {
        private int _posts;

        public ConcurrentQueue<string?> Keys { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != HttpMethod.Post)
            {
                return await base.SendAsync(request, cancellationToken);
            }
            Keys.Enqueue(request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null);
            var response = await base.SendAsync(request, cancellationToken);
            if (Interlocked.Increment(ref _posts) == 1)
            {
                response.Dispose();
                throw new HttpRequestException("the connection dropped before the answer arrived");
            }
            return response;
        }
    }
}
