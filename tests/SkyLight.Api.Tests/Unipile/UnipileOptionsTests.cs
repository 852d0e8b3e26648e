using Microsoft.Extensions.Options;

namespace SkyLight.Api.Tests.Unipile;

public sealed class UnipileOptionsTests
{
    [Theory]
    [InlineData("Unipile:BaseUrl", "")]
    [InlineData("Unipile:BaseUrl", "not a url")]
    [InlineData("Unipile:ApiKey", "")]
    public async Task TheServiceRefusesToStartWithoutAUsableUnipileConfiguration(string key, string value)
    {
        await using var app = new SkyLightApp();
        app.Settings[key] = value;

        var error = Assert.Throws<AggregateException>(() => app.CreateClient());   // ValidateOnStart gathers every failure

        var invalid = Assert.IsType<OptionsValidationException>(error.InnerExceptions[0]);
        Assert.Contains(key.Split(':')[1], invalid.Message, StringComparison.Ordinal);
    }
}
