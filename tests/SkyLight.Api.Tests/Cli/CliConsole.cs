using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SkyLight.Api.Tests.Cli;

/// <summary>A console for the CLI under test: output captured as plain text, keystrokes typed from a script.</summary>
internal sealed class CliConsole : IAnsiConsole
{
    private readonly StringBuilder _output = new();
    private readonly IAnsiConsole _inner;

    public CliConsole(params string[] typedLines)
    {
        _inner = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(new StringWriter(_output, System.Globalization.CultureInfo.InvariantCulture)),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = typedLines.Length > 0 ? InteractionSupport.Yes : InteractionSupport.No,
        });
        _inner.Profile.Width = 400;   // a wide terminal: nothing wraps
        Input = new TypedInput(typedLines);
    }

    public string Output => _output.ToString();

    public Profile Profile => _inner.Profile;
    public IAnsiConsoleCursor Cursor => _inner.Cursor;
    public IAnsiConsoleInput Input { get; }
    public IExclusivityMode ExclusivityMode => _inner.ExclusivityMode;
    public RenderPipeline Pipeline => _inner.Pipeline;

    public void Clear(bool home) => _inner.Clear(home);

    public void Write(IRenderable renderable) => _inner.Write(renderable);

    public void WriteAnsi(Action<AnsiWriter> action) => _inner.WriteAnsi(action);

    private sealed class TypedInput(string[] lines) : IAnsiConsoleInput
    {
        private readonly Queue<ConsoleKeyInfo> _keys = new(lines.SelectMany(line =>
            line.Select(c => new ConsoleKeyInfo(c, ConsoleKey.NoName, false, false, false)).Append(new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false))));

        public bool IsKeyAvailable() => _keys.Count > 0;

        public ConsoleKeyInfo? ReadKey(bool intercept) => _keys.TryDequeue(out var key) ? key : null;

        public Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken) => Task.FromResult(ReadKey(intercept));
    }
}

/// <summary>Reads a QR drawn with half blocks back into a picture a standard decoder (zbarimg) can read.</summary>
internal static class DrawnQr
{
    public static string? Decode(string output)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 20 && l.All(c => c is '█' or '▀' or '▄' or ' ')).ToList();
        if (lines.Count == 0)
        {
            return null;
        }
        var size = lines[0].Length;
        var dark = new bool[lines.Count * 2, size];
        for (var row = 0; row < lines.Count; row++)
        {
            for (var column = 0; column < size; column++)
            {
                var (top, bottom) = lines[row][column] switch { '█' => (false, false), '▀' => (false, true), '▄' => (true, false), _ => (true, true) };
                dark[2 * row, column] = top;
                dark[(2 * row) + 1, column] = bottom;
            }
        }

        const int Scale = 6;
        var pixels = new StringBuilder($"P2\n{size * Scale} {size * Scale}\n1\n");
        for (var y = 0; y < size * Scale; y++)
        {
            pixels.AppendJoin(' ', Enumerable.Range(0, size * Scale).Select(x => dark[y / Scale, x / Scale] ? 0 : 1)).Append('\n');
        }
        return Zbar.Decode(Encoding.ASCII.GetBytes(pixels.ToString()), "pgm");
    }
}
