using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace SkyLight.Api.Tests.Conventions;

/// <summary>Rules that hold for every endpoint, so a new one cannot quietly break them.</summary>
public sealed class ConventionTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    [Fact]
    public void EveryApiV1EndpointIsNamedAndRequiresAnApiKey()
    {
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.Empty(endpoints
            .Where(e => e.Metadata.GetMetadata<IEndpointNameMetadata>() is null || e.Metadata.GetMetadata<IAuthorizeData>() is null)
            .Select(e => e.RoutePattern.RawText));
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheApiAndItsKeyHeader()
    {
        var document = await (await app.CreateClient().GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).BodyAsync();

        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/account", out _));
        Assert.Equal("X-Api-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());
    }

    [Fact]
    public void TheServiceKnowsTheEmulatorOnlyThroughHttpAndConfiguration()
    {
        Assert.DoesNotContain(typeof(Program).Assembly.GetReferencedAssemblies(), reference => reference.Name == "Unipile.Emulator");
    }

    [Fact]
    public async Task HealthEndpointsAnswerWithoutAKey()
    {
        var client = app.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", ct)).StatusCode);
    }
}
