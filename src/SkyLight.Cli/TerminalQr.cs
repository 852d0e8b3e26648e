using System.Text;
using QRCoder;

namespace SkyLight.Cli;

/// <summary>
/// Draws a QR code with half-block characters: two modules per character cell, top and bottom, so the code
/// stays square in a terminal and a phone camera reads it. Dark modules are drawn as spaces on a light
/// background, light ones as blocks, with the quiet zone the standard asks for.
/// </summary>
internal static class TerminalQr
{
    public static string Draw(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var matrix = data.ModuleMatrix;   // includes a 4-module quiet zone
        var size = matrix.Count;
        var drawing = new StringBuilder();
        for (var row = 0; row < size; row += 2)
        {
            for (var column = 0; column < size; column++)
            {
                var top = matrix[row][column];
                var bottom = row + 1 < size && matrix[row + 1][column];
                drawing.Append((top, bottom) switch
                {
                    (false, false) => '█',
                    (false, true) => '▀',
                    (true, false) => '▄',
                    _ => ' ',
                });
            }
            drawing.Append('\n');
        }
        return drawing.ToString();
    }
}
