using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;
using SkyLight.Api.Tests.Channels;
using SkyLight.Api.Tests.Connect;

namespace SkyLight.Api.Tests.Observability;

/// <summary>The service with tracing on, its finished spans kept in memory by OpenTelemetry's in-memory exporter.</summary>
public sealed class TracingApp : ChannelsApp
{
    public TracingApp() => Settings["Tracing:Enabled"] = "true";

    /// <summary>Every span that ended, this host's and (listeners are per process) other hosts' alike: find yours by trace.</summary>
    public Spans Spans { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(traces => traces.AddInMemoryExporter(Spans)));
    }
}

/// <summary>A thread-safe list of spans for the in-memory exporter, which adds from whichever thread ends a span.</summary>
public sealed class Spans : System.Collections.ObjectModel.Collection<Activity>
{
    private readonly Lock _gate = new();

    public List<Activity> Snapshot()
    {
        lock (_gate)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_gate)
        {
            base.InsertItem(index, item);
        }
    }
}

public sealed class TraceTests(TracingApp app) : IClassFixture<TracingApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AConnectsTraceHoldsItsUnipileCallAndItsDatabaseCommandsUnderTheRequest()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsync("/api/v1/channels/whatsapp/connect", null, Ct);
        var requestId = response.Headers.GetValues("X-Request-Id").Single();

        // the request's span carries the X-Request-Id it answered with: that is how a log line or a complaint finds its trace
        Activity request = null!;
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult((request = app.Spans.Snapshot().SingleOrDefault(s =>
            s.Kind == ActivityKind.Server && s.GetTagItem("http.request.id") as string == requestId)!) is not null), "the request's span was not exported");
        Assert.Equal("POST /api/v1/channels/whatsapp/connect", request.DisplayName);
        Assert.Equal(200, request.GetTagItem("http.response.status_code"));

        var below = Descendants(app.Spans.Snapshot(), request);
        var unipile = Assert.Single(below, s => s.Kind == ActivityKind.Client && s.Source.Name == "System.Net.Http"
            && (s.GetTagItem("url.full") as string)?.EndsWith("/api/v1/accounts", StringComparison.Ordinal) == true);
        Assert.Equal("POST", unipile.GetTagItem("http.request.method"));
        var database = below.Where(s => s.Kind == ActivityKind.Client && s.Source.Name.Contains("EntityFrameworkCore", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(database);
        Assert.Contains(database, s => (s.GetTagItem("db.system") ?? s.GetTagItem("db.system.name")) is "sqlite" or "postgresql");
        Assert.All(below, s => Assert.Equal(request.TraceId, s.TraceId));
    }

    [Fact]
    public async Task AConnectPagesTraceNeverHoldsItsToken()
    {
        var workspace = await app.NewWorkspaceAsync();
        var (link, _) = await ConnectPageClient.CreateLinkAsync(workspace.Client, new { type = "whatsapp" });
        var token = new Uri(link.Url!).Segments[^1];

        using var page = await ConnectPageClient.OpenAsync(app, link.Url!);
        await page.StateAsync();

        List<Activity> pages = [];
        await ChannelsApp.WaitUntilAsync(() => Task.FromResult((pages = [.. app.Spans.Snapshot().Where(s => s.Kind == ActivityKind.Server
            && s.DisplayName.StartsWith("GET /connect/{token}", StringComparison.Ordinal))]).Count >= 2), "the page's spans were not exported");
        Assert.Contains(pages, s => s.GetTagItem("url.path") as string == "/connect/{token}/state");
        // the service's spans: the requests it served and what they did (the test's own client spans know the URL, of course)
        var spans = app.Spans.Snapshot();
        var served = spans.Where(s => s.Kind == ActivityKind.Server).SelectMany(s => Descendants(spans, s).Append(s)).ToList();
        Assert.DoesNotContain(served.SelectMany(s => s.TagObjects), tag => tag.Value?.ToString()?.Contains(token, StringComparison.Ordinal) == true);
        Assert.DoesNotContain(served, s => s.DisplayName.Contains(token, StringComparison.Ordinal));
    }

    private static List<Activity> Descendants(List<Activity> spans, Activity root)
    {
        var found = new List<Activity>();
        var parents = new HashSet<ActivitySpanId> { root.SpanId };
        for (var grew = true; grew;)
        {
            var next = spans.Where(s => s.TraceId == root.TraceId && parents.Contains(s.ParentSpanId) && !found.Contains(s)).ToList();
            found.AddRange(next);
            parents.UnionWith(next.Select(s => s.SpanId));
            grew = next.Count > 0;
        }
        return found;
    }
}
