using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace SkyLight.Api.Tests.Observability;

/// <summary>Where the scrape endpoint is, by configuration: the API's port (the default), a port of its own, or nowhere.</summary>
public sealed class MetricsEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ByDefaultTheApiPortServesMetricsWithoutAKey()
    {
        await using var app = new SkyLightApp();

        var scrape = await MetricsScrape.TakeAsync(app.CreateClient());

        Assert.Contains(scrape.Series, s => s.Name == "target_info" && s.Labels["service_name"] == "skylight-channels");
        Assert.Contains(scrape.Series, s => s.Name == "skylight_queue_pending");
    }

    [Fact]
    public async Task APortOfItsOwnServesMetricsAndNothingElseAndTheApiPortNoLongerDoes()
    {
        var port = ServiceProcess.FreePort();
        await using var app = new SkyLightApp { Settings = { ["Metrics:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        var workspace = await app.NewWorkspaceAsync();
        // the service listens on both ports: its clients must name the API's
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        workspace.Client.BaseAddress = new Uri(Assert.Single(addresses, a => new Uri(a).Port != port));
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        scraper.DefaultRequestHeaders.Add("X-Api-Key", workspace.ApiKey);

        var scrape = await MetricsScrape.TakeAsync(scraper);

        Assert.Contains(scrape.Series, s => s.Name == "skylight_queue_pending");
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.GetAsync("/api/v1/account", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.GetAsync("/health/live", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workspace.Client.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task SwitchedOffThereIsNoScrapeEndpoint()
    {
        await using var app = new SkyLightApp { Settings = { ["Metrics:Enabled"] = "false" } };
        var workspace = await app.NewWorkspaceAsync();

        var response = await app.CreateClient().GetAsync("/metrics", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await workspace.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheApisOwnPortCannotBeTheMetricsPort()
    {
        var port = ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var app = new SkyLightApp { Settings = { ["urls"] = $"http://127.0.0.1:{port}", ["Metrics:Port"] = port } };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Task.FromResult(app.CreateClient()));

        Assert.Contains("Metrics:Port must not be a port the API listens on", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Metrics:Path", "metrics")]
    [InlineData("Metrics:Path", "/a//b")]
    [InlineData("Metrics:Path", "/..")]
    [InlineData("Metrics:Path", "/Health/live")]
    [InlineData("Metrics:Path", "/api")]
    [InlineData("Metrics:Host", "example.com")]
    [InlineData("Metrics:Port", "70000")]
    public async Task ABadSettingStopsTheStartWithItsName(string setting, string value)
    {
        await using var app = new SkyLightApp { Settings = { [setting] = value } };

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Task.FromResult(app.CreateClient()));

        Assert.Contains($"{setting} must be", error.ToString(), StringComparison.Ordinal);
    }
}
