using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Antiforgery;
using SkyLight.Api.Channels;

namespace SkyLight.Api.Connect;

/// <summary>
/// The hosted connect page, GET /connect/{token}: one small document with every screen in it, its own script and
/// style (no third-party asset: it works offline), in Arabic or English, behind a strict Content-Security-Policy.
/// </summary>
internal static class ConnectPage
{
    public const string AssetsPath = "/connect-assets";

    /// <summary>Nothing but this origin's script, style and fetches, and data: images (the QR); no framing, no referrer, no cache.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly Dictionary<string, (byte[] Content, string Type)> Assets = new()
    {
        ["connect.js"] = (Asset("connect.js"), "text/javascript; charset=utf-8"),
        ["connect.css"] = (Asset("connect.css"), "text/css; charset=utf-8"),
    };

    public static void MapConnectPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/connect/{token}", PageAsync).ExcludeFromDescription().AddEndpointFilter(SecurityHeaders);
        app.MapGet($"{AssetsPath}/{{name}}", (string name, HttpContext http) =>
        {
            if (!Assets.TryGetValue(name, out var asset))
            {
                return Results.NotFound();
            }
            http.Response.Headers.CacheControl = "public, max-age=300";
            return Results.Bytes(asset.Content, asset.Type);
        }).ExcludeFromDescription().AddEndpointFilter(SecurityHeaders);
    }

    /// <summary>The headers every response of the page and its endpoints carries.</summary>
    public static async ValueTask<object?> SecurityHeaders(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        return await next(context);
    }

    private static async Task<IResult> PageAsync(string token, HttpContext http, ConnectSession session, IAntiforgery antiforgery, TimeProvider time,
        CancellationToken ct)
    {
        var language = PageText.Language(http.Request);
        var link = await session.OpenAsync(token, ct);
        if (link is null)
        {
            return Document(PageText.For(language, ChannelTypes.WhatsApp), language, null, new PageState(Screens.Invalid, "link_unknown"), null,
                StatusCodes.Status404NotFound);
        }
        var texts = PageText.For(language, link.ChannelType);
        await session.NoteUseAsync(ct);
        var now = time.GetUtcNow();
        if (link.Status(now) != ConnectLinkStatuses.Active)
        {
            return Document(texts, language, link.ChannelType, ConnectSession.Unusable(link, now), null, StatusCodes.Status410Gone);
        }
        var tokens = antiforgery.GetAndStoreTokens(http);
        return Document(texts, language, link.ChannelType, null, tokens.RequestToken, StatusCodes.Status200OK);
    }

    /// <summary>The page; <paramref name="unusable"/> renders a link that no longer works, with no script at work.</summary>
    private static IResult Document(IReadOnlyDictionary<string, string> t, string language, string? type, PageState? unusable, string? csrf, int status)
    {
        string T(string key) => Html.Encode(t[key]);
        var screen = unusable is null ? Screens.Loading : Screens.Invalid;
        string Hidden(string name) => name == screen ? "" : " hidden";
        var html = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="{language}" dir="{(language == PageText.Arabic ? "rtl" : "ltr")}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <meta name="csrf-token" content="{Html.Encode(csrf ?? "")}">
            <title>{(unusable is null ? T("title") : T(unusable.Notice!))}</title>
            <link rel="stylesheet" href="{AssetsPath}/connect.css">
            <script src="{AssetsPath}/connect.js" defer></script>
            </head>
            <body data-screen="{screen}" data-type="{type}">
            <main>
            <h1>{T("title")}</h1>
            <p id="message" role="alert" hidden></p>
            <section id="screen-loading"{Hidden(Screens.Loading)}><p>{T("loading")}</p></section>
            <section id="screen-qr" hidden aria-labelledby="qr-heading">
            <h2 id="qr-heading">{T("qr_heading")}</h2>
            <img id="qr-image" alt="{T("qr_alt")}" width="264" height="264">
            <p>{T("instructions")}</p>
            <p id="countdown" aria-live="polite"></p>
            </section>
            <section id="screen-expired" hidden aria-labelledby="expired-heading">
            <h2 id="expired-heading">{T("expired_heading")}</h2>
            <p>{T("expired_text")}</p>
            <button id="new-code" type="button">{T("new_code")}</button>
            </section>
            <section id="screen-error" hidden aria-labelledby="error-heading">
            <h2 id="error-heading">{T("error_heading")}</h2>
            <button id="retry" type="button">{T("try_again")}</button>
            </section>
            <section id="screen-login" hidden aria-labelledby="login-heading">
            <h2 id="login-heading">{T("login_heading")}</h2>
            <form id="login-form" method="post" action="#" novalidate>
            <label for="username">{T("username")}</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="100">
            <label for="password">{T("password")}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200">
            <p class="note">{T("password_note")}</p>
            <button id="login-submit" type="submit">{T("login_submit")}</button>
            </form>
            </section>
            <section id="screen-code" hidden aria-labelledby="code-heading">
            <h2 id="code-heading">{T("code_heading")}</h2>
            <p>{T("code_text")}</p>
            <p id="round"></p>
            <form id="code-form" method="post" action="#" novalidate>
            <label for="code">{T("code_label")}</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="32">
            <button id="code-submit" type="submit">{T("code_submit")}</button>
            <button id="resend" type="button" class="secondary">{T("resend")}</button>
            </form>
            </section>
            <section id="screen-success" hidden aria-labelledby="success-heading">
            <h2 id="success-heading">{T("success_heading")}</h2>
            <p>{T("success_text")}</p>
            <p id="redirecting" hidden>{T("redirecting")}</p>
            <a id="continue" class="button" hidden>{T("continue")}</a>
            </section>
            <section id="screen-invalid"{Hidden(Screens.Invalid)} aria-labelledby="invalid-heading">
            <h2 id="invalid-heading">{(unusable is null ? "" : T(unusable.Notice!))}</h2>
            <p>{T("invalid_text")}</p>
            <a id="invalid-continue" class="button"{(unusable?.RedirectUrl is { } back ? $" href=\"{Html.Encode(back)}\"" : " hidden")}>{T("continue")}</a>
            </section>
            <p><a id="cancel" hidden>{T("cancel")}</a></p>
            </main>
            <script type="application/json" id="texts">{JsonSerializer.Serialize(t)}</script>
            </body>
            </html>
            """);
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static byte[] Asset(string name)
    {
        using var stream = typeof(ConnectPage).Assembly.GetManifestResourceStream($"connect-assets/{name}")
            ?? throw new InvalidOperationException($"The page asset {name} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
