using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Data;

namespace SkyLight.Api.Tests.Errors;

public sealed class ErrorEnvelopeTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnknownRouteUnderApiV1Is404()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.GetAsync("/api/v1/no-such-thing", Ct);

        await response.AssertErrorAsync(404, "The requested resource was not found.");
    }

    [Fact]
    public async Task WrongMethodIs405()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.DeleteAsync("/api/v1/account", Ct);

        await response.AssertErrorAsync(405, "This HTTP method is not allowed on this endpoint.");
    }

    [Fact]
    public async Task BodyThatIsNotJsonIs400()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsync("/api/v1/account",
            new StringContent("{\"name\": ", Encoding.UTF8, "application/json"), Ct);

        await response.AssertErrorAsync(400, "The request body is not valid JSON.");
    }

    [Fact]
    public async Task WrongContentTypeIs415()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsync("/api/v1/account",
            new StringContent("name=Acme", Encoding.UTF8, "application/x-www-form-urlencoded"), Ct);

        await response.AssertErrorAsync(415, "Unsupported content type. Send the body as UTF-8 JSON (application/json).");
    }

    [Fact]
    public async Task BodyOver64KiBIs413()
    {
        var workspace = await app.NewWorkspaceAsync();
        var name = new string('a', 64 * 1024);

        var response = await workspace.Client.PatchAsJsonAsync("/api/v1/account", new { name }, Ct);

        await response.AssertErrorAsync(413, "The request body is too large. The limit is 64 KiB.");
    }

    [Fact]
    public async Task InvalidFieldsAre422WithSnakeCaseErrors()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsJsonAsync("/api/v1/account", new { name = "", timezone = "Mars/Olympus_Mons" }, Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        var errors = (await response.BodyAsync()).GetProperty("errors");
        Assert.Equal(["name", "timezone"], errors.EnumerateObject().Select(e => e.Name).Order());
        Assert.Contains("IANA time zone", errors.GetProperty("timezone")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValueOfTheWrongTypeIs422ForThatField()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsync("/api/v1/account",
            new StringContent("""{"name": 42}""", Encoding.UTF8, "application/json"), Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        Assert.Equal("The name field has the wrong type.", (await response.BodyAsync()).GetProperty("errors").GetProperty("name")[0].GetString());
    }

    [Fact]
    public async Task ValidUpdateSucceedsWithTheSuccessEnvelope()
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsJsonAsync("/api/v1/account", new { name = "Acme", timezone = "Europe/Berlin" }, Ct);

        var body = await response.BodyAsync();
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal("Account updated.", body.GetProperty("message").GetString());
        Assert.Equal("Acme", body.GetProperty("data").GetProperty("name").GetString());
        Assert.Equal("Europe/Berlin", body.GetProperty("data").GetProperty("timezone").GetString());
    }

    [Fact]
    public async Task UnhandledExceptionIs500WithTheGenericMessageAndALoggedRequestId()
    {
        await using var broken = new SkyLightApp();
        var workspace = await broken.NewWorkspaceAsync();
        await using (var scope = broken.Services.CreateAsyncScope())
        {
            // the next authentication fails inside the database
            await scope.ServiceProvider.GetRequiredService<SkyLightDb>().Database.ExecuteSqlRawAsync("DROP TABLE api_keys", Ct);
        }

        var response = await workspace.Client.GetAsync("/api/v1/account", Ct);

        await response.AssertErrorAsync(500, "An unexpected error occurred. Please try again later.");
        var requestId = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Contains(broken.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal) && line.Contains(requestId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryResponseCarriesARequestId()
    {
        var response = await app.CreateClient().GetAsync("/api/v1/account", Ct);

        Assert.False(string.IsNullOrEmpty(Assert.Single(response.Headers.GetValues("X-Request-Id"))));
    }
}
