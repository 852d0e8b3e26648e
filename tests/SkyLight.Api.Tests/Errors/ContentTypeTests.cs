using System.Net;

namespace SkyLight.Api.Tests.Errors;

/// <summary>
/// Issue 11, "no 500 for any input": UTF-8 JSON is read in any spelling of its media type and charset; any other
/// charset, media type or none at all is 415 with the same message.
/// </summary>
public sealed class ContentTypeTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private const string Unsupported = "Unsupported content type. Send the body as UTF-8 JSON (application/json).";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json;charset=utf8")]
    [InlineData("application/json; charset=\"UTF8\"; profile=acme")]
    [InlineData("application/json; profile=acme")]
    [InlineData("Application/JSON; Charset=Utf-8")]
    [InlineData("application/merge-patch+json; charset=utf-8")]
    public async Task Utf8JsonIsReadInAnySpellingOfItsMediaType(string contentType)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.SendAsync(Json.Request(HttpMethod.Patch, "/api/v1/account", """{"name": "Acme ✓"}""", contentType), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Acme ✓", (await response.BodyAsync()).GetProperty("data").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("application/json; charset=utf-7")]
    [InlineData("application/json; charset=foo")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset=\"\"")]
    [InlineData("application/json; charset=\"utf-8")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=utf-8; charset=utf-16")]
    [InlineData("application/problem+json; charset=latin1")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task AnythingButUtf8JsonIs415(string? contentType)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.SendAsync(Json.Request(HttpMethod.Patch, "/api/v1/account", """{"name": "Acme"}""", contentType), Ct);

        await response.AssertErrorAsync(415, Unsupported);
    }

    [Theory]
    [InlineData("/api/v1/account")]
    [InlineData("/api/v1/campaigns")]
    [InlineData("/api/v1/channels/instagram/connect")]
    [InlineData("/api/v1/channels/instagram/2fa")]
    [InlineData("/api/v1/channels/instagram/2fa/resend")]
    public async Task EveryBodyEndpointAnswersAnotherCharsetWith415(string path)
    {
        var workspace = await app.NewWorkspaceAsync();
        var method = path == "/api/v1/account" ? HttpMethod.Patch : HttpMethod.Post;

        var response = await workspace.Client.SendAsync(Json.Request(method, path, "{}", "application/json; charset=utf-7"), Ct);

        await response.AssertErrorAsync(415, Unsupported);
    }
}
