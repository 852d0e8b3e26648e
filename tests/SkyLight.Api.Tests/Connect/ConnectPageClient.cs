using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SkyLight.Api.Tests.Connect;

/// <summary>What the connect page's state endpoints answer.</summary>
public sealed record PageState(
    string Screen, string? Notice, string? QrImage, int? ExpiresInSeconds, int? Round, int? ResendInSeconds, int? ChannelId, string? RedirectUrl,
    string? CancelUrl);

/// <summary>A link as the API shows it.</summary>
public sealed record ConnectLinkData(
    Guid Id, string Type, string? Url, string Status, string? State, string? SuccessRedirectUrl, string? FailureRedirectUrl, int? ChannelId,
    string ExpiresAt, string CreatedAt, string? RevokedAt, string? UsedAt);

/// <summary>
/// The connect page as its own script uses it, over real HTTP without a browser: it loads the page (which sets the
/// anti-forgery cookie and gives the token), then calls the page's endpoints with both.
/// </summary>
public sealed partial class ConnectPageClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly HttpClient _http;
    private readonly string _path;

    private ConnectPageClient(HttpClient http, string path)
    {
        _http = http;
        _path = path;
    }

    public string? Csrf { get; private set; }
    public HttpResponseMessage? Page { get; private set; }
    public string PageHtml { get; private set; } = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A browser-like client (it keeps cookies) that has loaded the page at <paramref name="url"/>.</summary>
    public static async Task<ConnectPageClient> OpenAsync(SkyLightApp app, string url, string? acceptLanguage = null)
    {
        var http = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri(new Uri(url).GetLeftPart(UriPartial.Authority)), HandleCookies = true, AllowAutoRedirect = false,
        });
        if (acceptLanguage is not null)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Language", acceptLanguage);
        }
        var client = new ConnectPageClient(http, new Uri(url).PathAndQuery);
        await client.ReloadAsync();
        return client;
    }

    public async Task ReloadAsync(string query = "")
    {
        Page = await _http.GetAsync(_path + query, Ct);
        PageHtml = await Page.Content.ReadAsStringAsync(Ct);
        Csrf = CsrfMeta().Match(PageHtml) is { Success: true } match && match.Groups[1].Value.Length > 0 ? match.Groups[1].Value : Csrf;
    }

    public async Task<PageState> StateAsync() => await ReadAsync(await _http.GetAsync($"{_path}/state", Ct), HttpStatusCode.OK);

    public Task<HttpResponseMessage> PostAsync(string step, object? body = null, bool withToken = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{_path}/{step}") { Content = JsonContent.Create(body ?? new { }) };
        if (withToken && Csrf is not null)
        {
            request.Headers.Add("X-CSRF-Token", Csrf);
        }
        return _http.SendAsync(request, Ct);
    }

    public async Task<PageState> ActAsync(string step, object? body = null, HttpStatusCode expected = HttpStatusCode.OK) =>
        await ReadAsync(await PostAsync(step, body), expected);

    public static async Task<PageState> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<PageState>(text, Json)!;
    }

    public static async Task<(ConnectLinkData Link, HttpResponseMessage Response)> CreateLinkAsync(HttpClient api, object request)
    {
        var response = await api.PostAsJsonAsync("/api/v1/channels/connect-links", request, Ct);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            return (null!, response);
        }
        var body = await response.BodyAsync();
        return (body.GetProperty("data").Deserialize<ConnectLinkData>(Json)!, response);
    }

    public static async Task<ConnectLinkData> GetLinkAsync(HttpClient api, Guid id)
    {
        var response = await api.GetAsync($"/api/v1/channels/connect-links/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.BodyAsync()).GetProperty("data").Deserialize<ConnectLinkData>(Json)!;
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("""<meta name="csrf-token" content="([^"]*)">""")]
    private static partial Regex CsrfMeta();
}
