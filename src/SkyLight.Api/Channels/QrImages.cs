using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using QRCoder;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;

namespace SkyLight.Api.Channels;

/// <summary>
/// The pending attempt's QR code as an image, rendered here, so an integrator can put it on a page without a QR
/// library (and without getting the WhatsApp string's format wrong). PNG or SVG; QRCoder draws both without
/// System.Drawing.
/// </summary>
internal static class QrImages
{
    public static void MapQrImage(this RouteGroupBuilder channels, string type)
    {
        var name = ChannelNames.Display(type);
        channels.MapGet($"/{type}/qr", ([FromQuery(Name = "account_id")] string? accountId, [FromQuery] string? format, SkyLightDb db,
                HttpContext http, TimeProvider time, CancellationToken ct) => QrAsync(type, accountId, format, db, http, time, ct))
            .WithName($"Get{name}Qr").WithSummary($"The pending {name} QR code as an image: format=png (default) or svg.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: "image/svg+xml")
            .Errors(404, 422);
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult, ValidationProblem>> QrAsync(
        string type, string? accountId, string? format, SkyLightDb db, HttpContext http, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        format = format?.ToLowerInvariant() ?? "png";
        if (format is not ("png" or "svg"))
        {
            return ApiErrors.Invalid("format", "The format must be png or svg.");
        }
        var qrCode = accountId is not null && !Unipile.UnipileIds.IsWellFormed(accountId) ? null : await db.ConnectAttempts.AsNoTracking()
            .Where(a => a.ChannelType == type && a.State == AttemptStates.Pending && a.ExpiresAt > now && (accountId == null || a.UnipileAccountId == accountId))
            .Select(a => a.QrCode).FirstOrDefaultAsync(ct);
        if (qrCode is null)
        {
            return ApiErrors.NotFound($"No {ChannelNames.Display(type)} QR code is waiting to be scanned.");
        }

        http.Response.Headers.CacheControl = "no-store";   // a login credential: no cache keeps it
        return format == "png"
            ? TypedResults.File(Png(qrCode), "image/png")
            : TypedResults.File(Encoding.UTF8.GetBytes(Svg(qrCode)), "image/svg+xml");
    }

    public static byte[] Png(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(8);
    }

    /// <summary>The QR as a data: URL, for a page whose policy loads images from nowhere else.</summary>
    public static string PngDataUrl(string text) => "data:image/png;base64," + Convert.ToBase64String(Png(text));

    private static string Svg(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(8);
    }
}
