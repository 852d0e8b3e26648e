using Microsoft.Extensions.Options;

namespace SkyLight.Api.Tests.Unipile;

public sealed class UnipileOptionsTests
{
    [Theory]
    [InlineData("Unipile:BaseUrl", "", "Only in Development does an empty value start the built-in Unipile emulator")]
    [InlineData("Unipile:BaseUrl", "not a url", "BaseUrl")]
    [InlineData("Unipile:ApiKey", "", "ApiKey")]
    [InlineData("Unipile:WebhookSecret", "", "WebhookSecret")]
    public async Task OutsideDevelopmentTheServiceRefusesToStartWithoutAUsableUnipileConfiguration(string key, string value, string expected)
    {
        await using var app = new SkyLightApp { Environment = "Production" };
        app.Settings["Unipile:BaseUrl"] = "http://127.0.0.1:9";
        app.Settings["Unipile:ApiKey"] = "key";
        app.Settings["Unipile:WebhookSecret"] = "secret";
        app.Settings[key] = value;

        var error = Assert.Throws<AggregateException>(() => app.CreateClient());   // ValidateOnStart gathers every failure

        var invalid = Assert.IsType<OptionsValidationException>(error.InnerExceptions[0]);
        Assert.Contains(expected, invalid.Message, StringComparison.Ordinal);
    }
}
