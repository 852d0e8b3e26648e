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

        // every error is documented as it is sent: the envelope as application/json, and 401 on every route
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", Responses: operation.Value.GetProperty("responses"))))
            .ToList();
        Assert.All(operations.Where(o => o.Name.Contains("/api/v1", StringComparison.Ordinal)), o => Assert.True(o.Responses.TryGetProperty("401", out _), o.Name));
        var errorSchemas = operations.SelectMany(o => o.Responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5')
            .Select(r => $"{o.Name} {r.Name}: {r.Value.GetProperty("content").EnumerateObject().Single().Name} {r.Value.GetProperty("content").EnumerateObject().Single().Value.GetProperty("schema").GetProperty("$ref").GetString()}"));
        Assert.All(errorSchemas, e => Assert.EndsWith("application/json #/components/schemas/ErrorEnvelope", e, StringComparison.Ordinal));
    }

    /// <summary>The service may host the emulator (Development's default), but never call into it: only HTTP.</summary>
    [Fact]
    public void OnlyTheEmbeddedHostTouchesTheEmulatorsCode()
    {
        var source = Path.Combine(RepositoryRoot(), "src", "SkyLight.Api");
        var touching = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(file => File.ReadAllText(file).Contains("Unipile.Emulator", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(source, file));

        Assert.Equal([Path.Combine("Hosting", "EmbeddedUnipile.cs")], touching);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "SkyLight.slnx")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? throw new DirectoryNotFoundException("SkyLight.slnx not found above the test binaries.");
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
