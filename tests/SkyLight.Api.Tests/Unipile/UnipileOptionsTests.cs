namespace SkyLight.Api.Tests.Unipile;

/// <summary>Outside Development the built service refuses to start without a usable Unipile configuration.</summary>
public sealed class UnipileOptionsTests
{
    [Theory]
    [InlineData("Unipile:BaseUrl", "", "Only in Development does an empty value start the built-in Unipile emulator")]
    [InlineData("Unipile:BaseUrl", "not a url", "BaseUrl")]
    [InlineData("Unipile:ApiKey", "", "ApiKey")]
    [InlineData("Unipile:WebhookSecret", "", "WebhookSecret")]
    public async Task TheServiceStopsAtStartWithAClearError(string key, string value, string expected)
    {
        var database = TestDatabase.New();
        var settings = new Dictionary<string, string>
        {
            ["Unipile:BaseUrl"] = "http://127.0.0.1:9",
            ["Unipile:ApiKey"] = "key",
            ["Unipile:WebhookSecret"] = "secret",
            [key] = value,
        };
        string[] args = ["--urls", $"http://127.0.0.1:{ServiceProcess.FreePort()}", .. settings.Select(s => $"--{s.Key}={s.Value}")];

        var (exit, stdout, stderr) = await ServiceProcess.RunToExitAsync(database, "Production", args);

        Assert.NotEqual(0, exit);
        Assert.Contains(expected, stdout + stderr, StringComparison.Ordinal);
        await database.DropAsync();
    }

    [Fact]
    public async Task AnEmptyPublicBaseUrlMeansNoWebhookNotAnInvalidUrl()
    {
        await using var app = new SkyLightApp { Environment = "Production" };
        app.Settings["Unipile:BaseUrl"] = "http://127.0.0.1:9";
        app.Settings["Unipile:ApiKey"] = "key";
        app.Settings["Unipile:WebhookSecret"] = "secret";
        app.Settings["SkyLight:PublicBaseUrl"] = "";

        var ready = await app.CreateClient().GetAsync("/health/ready", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains(app.Logs.Lines, line => line.Contains("SkyLight:PublicBaseUrl is not set", StringComparison.Ordinal));
    }
}
