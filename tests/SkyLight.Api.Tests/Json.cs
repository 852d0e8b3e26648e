using System.Text;
using System.Text.Json;

namespace SkyLight.Api.Tests;

internal static class Json
{
    public static async Task<JsonElement> BodyAsync(this HttpResponseMessage response)
    {
        await response.Content.LoadIntoBufferAsync(TestContext.Current.CancellationToken);   // so it can be read again
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return body.RootElement.Clone();
    }

    /// <summary>The exact error envelope: success false, the message, and no other members unless listed.</summary>
    public static async Task AssertErrorAsync(this HttpResponseMessage response, int status, string message, params string[] otherMembers)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.BodyAsync();
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(message, body.GetProperty("message").GetString());
        Assert.Equal(["success", "message", .. otherMembers], body.EnumerateObject().Select(p => p.Name));
    }

    /// <summary>The body as UTF-8 bytes under exactly the Content-Type given (none when null), unvalidated by HttpClient.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string body, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        return new HttpRequestMessage(method, path) { Content = content };
    }
}
