namespace Unipile.Emulator;

/// <summary>
/// A stand-in for Unipile's v1 API. Run it alone:
/// <c>dotnet run --project src/Unipile.Emulator -- --urls http://127.0.0.1:5081</c>
/// </summary>
public static class Program
{
    public static async Task Main(string[] args)
    {
        var app = EmulatorApp.Build(args);
        await app.RunAsync();
    }
}
