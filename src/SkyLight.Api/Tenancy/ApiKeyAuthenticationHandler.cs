using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SkyLight.Api.Data;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Tenancy;

/// <summary>
/// Accepts <c>X-Api-Key: key</c> or <c>Authorization: Bearer key</c>. Keys are looked up by their SHA-256,
/// so neither the lookup nor the final comparison depends on how much of a guessed key is right.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    SkyLightDb db,
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

        var hash = ApiKey.HashOf(presented);
        var match = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.Hash, k.WorkspaceId, k.Workspace.IsActive, k.Workspace.TimeZone })
            .SingleOrDefaultAsync(Context.RequestAborted);
        if (match is null || !CryptographicOperations.FixedTimeEquals(match.Hash, hash))
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        current.Set(match.WorkspaceId, WorkspaceTime.FindZone(match.TimeZone) ?? TimeZoneInfo.Utc, match.Id);
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, match.WorkspaceId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ActiveClaim, match.IsActive ? "true" : "false"),
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
