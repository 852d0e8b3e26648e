using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SkyLight.Api.Notifications;
using static SkyLight.Api.Tests.Notifications.WebhookApi;

namespace SkyLight.Api.Tests.Notifications;

/// <summary>The service as outside Development: private targets refused, and a DNS that can change its answer.</summary>
public sealed class PrivateTargetsApp : WebhooksApp
{
    public PrivateTargetsApp() => Settings["Webhooks:AllowPrivateTargets"] = "false";

    internal ScriptedDns Dns { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<HostResolver>(Dns));
    }
}

/// <summary>Answers each name from a script: one list of addresses per lookup, the last one repeated. Unknown names go to the real DNS.</summary>
internal sealed class ScriptedDns : HostResolver
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<IPAddress[]>> _answers = new(StringComparer.OrdinalIgnoreCase);

    public void Answer(string host, params IPAddress[][] lookups) => _answers[host] = new ConcurrentQueue<IPAddress[]>(lookups);

    public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        if (!_answers.TryGetValue(host, out var lookups))
        {
            return base.ResolveAsync(host, ct);
        }
        return Task.FromResult(lookups.Count > 1 && lookups.TryDequeue(out var next) ? next : lookups.TryPeek(out var last) ? last : []);
    }
}

/// <summary>Where deliveries may not go: refused when registered, and again at every connection.</summary>
public sealed class WebhookTargetTests(PrivateTargetsApp app) : IClassFixture<PrivateTargetsApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("http://[::1]/hooks")]
    [InlineData("http://10.1.2.3/hooks")]
    [InlineData("http://172.20.0.5/hooks")]
    [InlineData("http://192.168.1.10/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://100.64.0.1/hooks")]
    [InlineData("http://0.0.0.0/hooks")]
    [InlineData("http://224.0.0.1/hooks")]
    [InlineData("http://[fe80::1]/hooks")]
    [InlineData("http://[fd00::1]/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]/hooks")]
    [InlineData("http://localhost/hooks")]
    [InlineData("http://2130706433/hooks")]
    [InlineData("http://0x7f.1/hooks")]
    [InlineData("http://[::127.0.0.1]/hooks")]
    [InlineData("http://[::ffff:0:7f00:1]/hooks")]
    [InlineData("http://[64:ff9b::a00:1]/hooks")]
    [InlineData("http://[2002:7f00:1::]/hooks")]
    [InlineData("http://[2001:db8::1]/hooks")]
    [InlineData("http://192.0.2.1/hooks")]
    [InlineData("http://203.0.113.5/hooks")]
    public async Task APrivateTargetIsRefusedAtRegistration(string url)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PostAsJsonAsync("/api/v1/webhooks", new { name = "inside", url, events = new[] { "*" } }, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var message = (await response.BodyAsync()).GetProperty("errors").GetProperty("url")[0].GetString();
        Assert.EndsWith("resolves to a private, loopback, link-local or multicast address.", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANameThatResolvesInsideLaterIsRefusedWhenTheDeliveryConnects()
    {
        var workspace = await app.NewWorkspaceAsync();
        var receiver = app.Receiver.NewRoute();
        var host = $"rebind-{Guid.NewGuid():N}.example";
        app.Dns.Answer(host, [IPAddress.Parse("93.184.216.34")], [IPAddress.Loopback]);   // public when registered, then loopback
        var url = new UriBuilder(receiver.Url) { Host = host }.Uri;

        var endpoint = await CreateAsync(workspace.Client, url);
        var delivery = await TestAsync(workspace.Client, endpoint.Id);
        var refused = await WaitForDeliveryAsync(workspace.Client, endpoint.Id, delivery.DeliveryId, d => d.Attempts == 1, "the attempt never ended");

        Assert.Equal($"refused: {host} resolves only to private, loopback, link-local or multicast addresses", refused.LastError);
        Assert.Empty(receiver.Received);   // the loopback receiver would have answered 200
    }

    [Fact]
    public async Task AHostNameTooLongForDnsIs422()
    {
        var workspace = await app.NewWorkspaceAsync();
        var host = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".com";

        var response = await workspace.Client.PostAsJsonAsync("/api/v1/webhooks", new { name = "long", url = $"http://{host}/", events = new[] { "*" } }, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.EndsWith("could not be resolved.", (await response.BodyAsync()).GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PatchingTheUrlIsCheckedToo()
    {
        var workspace = await app.NewWorkspaceAsync();
        var host = $"public-{Guid.NewGuid():N}.example";
        app.Dns.Answer(host, [IPAddress.Parse("93.184.216.34")]);
        var endpoint = await CreateAsync(workspace.Client, new Uri($"http://{host}/hooks"));

        var response = await workspace.Client.PatchAsJsonAsync($"/api/v1/webhooks/{endpoint.Id}", new { url = "http://10.0.0.7/hooks" }, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal($"http://{host}/hooks", (await GetAsync(workspace.Client, endpoint.Id)).Url);
    }

    [Fact]
    public async Task OutsideDevelopmentOnlyHttpsIsAccepted()
    {
        var production = new WebhookTargets(app.Dns, Options.Create(new WebhooksOptions { AllowPrivateTargets = true }), new Production());

        Assert.Equal("The url must use https.", await production.RefusalAsync("http://hooks.example.com/x", Ct));
        Assert.Null(await production.RefusalAsync("https://hooks.example.com/x", Ct));
    }

    [Theory]
    [InlineData("8.8.8.8", false)]
    [InlineData("93.184.216.34", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("100.128.0.1", false)]
    [InlineData("2606:4700::1111", false)]
    [InlineData("198.18.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::", true)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("64:ff9b::808:808", false)]
    [InlineData("2002:808:808::1", false)]
    [InlineData("100::1", true)]
    public void AddressesAreClassified(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, WebhookTargets.IsPrivate(IPAddress.Parse(address)));

    private sealed class Production : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Production;
        public string ApplicationName { get; set; } = "SkyLight.Api";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
