using System.Text.Json;

namespace SkyLight.Api.Tests.Errors;

/// <summary>
/// Issue 11, "no 500 for any input": a malformed body is 400; a well-formed body with a blank or wrong-typed field
/// is 422 on that field, on every endpoint that takes a body.
/// </summary>
public sealed class RequestBodyTests(SkyLightApp app) : IClassFixture<SkyLightApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/v1/campaigns", """{"name": "   ", "channel_id": 1}""", "name")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": null}""", "channel_id")]
    [InlineData("/api/v1/account", """{"name": "   "}""", "name")]
    [InlineData("/api/v1/account", """{"name": "\t\n"}""", "name")]
    [InlineData("/api/v1/account", """{"timezone": "  "}""", "timezone")]
    [InlineData("/api/v1/channels/instagram/connect", """{"username": "   ", "password": "pw"}""", "username")]
    [InlineData("/api/v1/channels/instagram/connect", """{"username": "brand", "password": "   "}""", "password")]
    [InlineData("/api/v1/channels/instagram/connect", """{"username": "brand", "password": "pw", "country": "  "}""", "country")]
    [InlineData("/api/v1/channels/instagram/2fa", """{"account_id": "   ", "code": "123456"}""", "account_id")]
    [InlineData("/api/v1/channels/instagram/2fa", """{"account_id": "acc", "code": "   "}""", "code")]
    [InlineData("/api/v1/channels/instagram/2fa/resend", """{"account_id": "  "}""", "account_id")]
    public async Task ABlankFieldIs422OnThatFieldAlone(string path, string body, string field)
    {
        var errors = await UnprocessableAsync(path, body);

        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": "5"}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": 1.5}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": 1e400}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": 99999999999}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": true}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": []}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": "A", "channel_id": {}}""", "channel_id")]
    [InlineData("/api/v1/campaigns", """{"name": {"first": "A"}, "channel_id": 1}""", "name")]
    [InlineData("/api/v1/campaigns", """{"name": ["A"], "channel_id": 1}""", "name")]
    [InlineData("/api/v1/account", """{"name": false}""", "name")]
    [InlineData("/api/v1/account", """{"timezone": 3}""", "timezone")]
    [InlineData("/api/v1/account", """{"timezone": {"id": "UTC"}}""", "timezone")]
    [InlineData("/api/v1/channels/instagram/connect", """{"username": "brand", "password": 1234}""", "password")]
    [InlineData("/api/v1/channels/instagram/connect", """{"username": "brand", "password": "pw", "country": true}""", "country")]
    [InlineData("/api/v1/channels/instagram/2fa", """{"account_id": 7, "code": "123456"}""", "account_id")]
    [InlineData("/api/v1/channels/instagram/2fa", """{"account_id": "acc", "code": 123456}""", "code")]
    [InlineData("/api/v1/channels/instagram/2fa/resend", """{"account_id": ["acc"]}""", "account_id")]
    public async Task AWrongTypedFieldIs422OnThatFieldAlone(string path, string body, string field)
    {
        var errors = await UnprocessableAsync(path, body);

        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
        Assert.Equal([$"The {field} field has the wrong type."], errors.GetProperty(field).EnumerateArray().Select(m => m.GetString()));
    }

    [Theory]
    [InlineData("""{"name": """)]
    [InlineData("""{"name": "A",}""")]
    [InlineData("""{"name" "A"}""")]
    [InlineData("""{"name": 'A'}""")]
    [InlineData("""{"name": "A"} {}""")]
    [InlineData("""{"name": "A", "channel_id": 01}""")]
    [InlineData("""{"name": "A", "channel_id": 1.5.2}""")]
    [InlineData("""{"name": "A", "channel_id": NaN}""")]
    [InlineData("""{"name": "A", "channel_id": tru}""")]
    public async Task AMalformedBodyIs400(string body)
    {
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.SendAsync(Json.Request(HttpMethod.Post, "/api/v1/campaigns", body), Ct);

        await response.AssertErrorAsync(400, "The request body is not valid JSON.");
    }

    [Fact]
    public async Task BytesThatAreNotUtf8Are400()
    {
        var workspace = await app.NewWorkspaceAsync();
        byte[] body = [.. "{\"name\": \"A"u8, 0xFF, 0xFE, .. "\"}"u8];
        using var request = new HttpRequestMessage(HttpMethod.Patch, "/api/v1/account") { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        var response = await workspace.Client.SendAsync(request, Ct);

        await response.AssertErrorAsync(400, "The request body is not valid JSON.");
    }

    /// <summary>Sends the body as JSON and returns the <c>errors</c> of the 422 it must get.</summary>
    private async Task<JsonElement> UnprocessableAsync(string path, string body)
    {
        var workspace = await app.NewWorkspaceAsync();
        var method = path == "/api/v1/account" ? HttpMethod.Patch : HttpMethod.Post;

        var response = await workspace.Client.SendAsync(Json.Request(method, path, body), Ct);

        await response.AssertErrorAsync(422, "The given data was invalid.", "errors");
        return (await response.BodyAsync()).GetProperty("errors");
    }
}
