namespace SkyLight.Api.Connect;

internal static class ConnectSetup
{
    /// <summary>Connect links, and the hosted page they open, with its anti-forgery tokens (Data Protection, shared by every node).</summary>
    public static WebApplicationBuilder AddConnectLinks(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConnectOptions>().BindConfiguration(ConnectOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<ConnectSession>();
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = "X-CSRF-Token";
            antiforgery.Cookie.Name = "skylight-connect";
            antiforgery.Cookie.Path = "/connect";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.SuppressXFrameOptionsHeader = true;   // the page sends DENY itself, with frame-ancestors 'none'
        });
        return builder;
    }

    public static void MapConnect(this WebApplication app)
    {
        app.MapConnectPage();
        app.MapConnectPageApi();
    }
}
