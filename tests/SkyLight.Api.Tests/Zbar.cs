using System.Diagnostics;

namespace SkyLight.Api.Tests;

/// <summary>Reads QR codes back with a standard decoder, zbarimg (Debian's zbar-tools, which .ci/run installs).</summary>
internal static class Zbar
{
    /// <summary>The text of the one QR code in the image, or null when zbarimg finds none.</summary>
    public static string? Decode(byte[] image, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"skylight-qr-{Guid.NewGuid():N}.{extension}");
        File.WriteAllBytes(path, image);
        try
        {
            var start = new ProcessStartInfo("zbarimg") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("--quiet");
            start.ArgumentList.Add("--raw");
            start.ArgumentList.Add(path);
            using var zbar = Process.Start(start)!;
            var decoded = zbar.StandardOutput.ReadToEnd();
            zbar.WaitForExit();
            return zbar.ExitCode == 0 ? decoded.TrimEnd('\n') : null;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
