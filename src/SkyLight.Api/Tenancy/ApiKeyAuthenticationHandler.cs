using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace SkyLight.Api.Tenancy;

/// <summary>
/// Accepts <c>X-Api-Key: key</c> or <c>Authorization: Bearer key</c>. Keys are looked up by their SHA-256 (from
/// memory: <see cref="ApiKeyCache"/>), so neither the lookup nor the final comparison depends on how much of a guessed
/// key is right.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache keys,
    CurrentWorkspace current)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ActiveClaim = "workspace_active";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request.Headers);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (await keys.FindAsync(presented, Context.RequestAborted) is not { } key)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        current.Set(key.WorkspaceId, key.TimeZone, key.KeyId);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, key.WorkspaceId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ActiveClaim, key.WorkspaceActive ? "true" : "false"),
            ],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private static string? PresentedKey(IHeaderDictionary headers)
    {
        var apiKey = headers["X-Api-Key"].ToString().Trim();
        if (apiKey.Length > 0)
        {
            return apiKey;
        }

        var authorization = headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim() is { Length: > 0 } bearer ? bearer : null
            : null;
    }
}
