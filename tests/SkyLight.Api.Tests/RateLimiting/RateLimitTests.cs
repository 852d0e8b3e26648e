using System.Net;

namespace SkyLight.Api.Tests.RateLimiting;

public sealed class RateLimitedApp : SkyLightApp
{
    public RateLimitedApp() => Settings["RateLimiting:PermitLimit"] = "3";
}

public sealed class RateLimitTests(RateLimitedApp app) : IClassFixture<RateLimitedApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;


    [Fact]
    public async Task EveryAuthenticatedResponseCarriesTheLimitHeadersAndThe4thRequestIs429()
    {
        var windowReset = TenSecondsIntoTheNextWindow().ToUnixTimeSeconds() + 50;
        var workspace = await app.NewWorkspaceAsync();

        for (var remaining = 2; remaining >= 0; remaining--)
        {
            var ok = await workspace.Client.GetAsync("/api/v1/account", Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", Header(ok, "X-RateLimit-Limit"));
            Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(ok, "X-RateLimit-Remaining"));
            Assert.Equal(windowReset.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(ok, "X-RateLimit-Reset"));
        }

        var limited = await workspace.Client.GetAsync("/api/v1/account", Ct);

        await limited.AssertErrorAsync(429, "Too many requests. Please slow down.", "retry_after");
        Assert.Equal(50, (await limited.BodyAsync()).GetProperty("retry_after").GetInt32());
        Assert.Equal(TimeSpan.FromSeconds(50), limited.Headers.RetryAfter?.Delta);
        Assert.Equal("0", Header(limited, "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task TheLimitIsPerKeyAndResetsWithTheWindow()
    {
        TenSecondsIntoTheNextWindow();
        var busy = await app.NewWorkspaceAsync();
        var quiet = await app.NewWorkspaceAsync();
        for (var i = 0; i < 4; i++)
        {
            await busy.Client.GetAsync("/api/v1/account", Ct);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await busy.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await quiet.Client.GetAsync("/api/v1/account", Ct)).StatusCode);

        app.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(HttpStatusCode.OK, (await busy.Client.GetAsync("/api/v1/account", Ct)).StatusCode);
    }

    [Fact]
    public async Task ErrorResponsesOfAuthenticatedRequestsCarryTheHeadersToo()
    {
        TenSecondsIntoTheNextWindow();
        var workspace = await app.NewWorkspaceAsync();

        var response = await workspace.Client.PatchAsync("/api/v1/account",
            new StringContent("{", System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("2", Header(response, "X-RateLimit-Remaining"));
    }

    /// <summary>Moves the fake clock to 10 s after the next minute boundary: the window then resets 50 s later.</summary>
    private DateTimeOffset TenSecondsIntoTheNextWindow()
    {
        var now = app.Time.GetUtcNow();
        var windowStart = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        app.Time.SetUtcNow(windowStart.AddSeconds(10));
        return windowStart.AddSeconds(10);
    }

    private static string Header(HttpResponseMessage response, string name) => Assert.Single(response.Headers.GetValues(name));
}
