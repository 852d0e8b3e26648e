using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SkyLight.Api.Tests;

/// <summary>The built service binary run as a real process, the way the README runs it.</summary>
internal sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ServiceProcess(Process process) => _process = process;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    /// <summary>The API keys the first start printed for a person to copy, in order; the first is the Default workspace's.</summary>
    public IReadOnlyList<string> PrintedKeys => [.. PrintedKey().Matches(Stdout).Select(m => m.Value)];
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>The service's dll, built beside this test assembly (artifacts/bin/SkyLight.Api/{configuration}).</summary>
    public static string ServiceDll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var dll = Path.Combine(testBin.Parent!.Parent!.FullName, "SkyLight.Api", testBin.Name, "SkyLight.Api.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first: the service binary is missing.", dll);
        }
    }

    public static ServiceProcess Start(TestDatabase database, string environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(ServiceDll)!,   // content root: appsettings.json lives there
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServiceDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in database.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment.Remove("ASPNETCORE_URLS");

        var service = new ServiceProcess(Process.Start(start)!);
        service._process.OutputDataReceived += (_, e) => Append(service._stdout, e.Data);
        service._process.ErrorDataReceived += (_, e) => Append(service._stderr, e.Data);
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Runs a management verb to completion.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunVerbAsync(TestDatabase database, params string[] args) =>
        RunToExitAsync(database, "Production", args);

    /// <summary>Runs the binary until it exits by itself (a verb, or a start that fails), within a minute.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(TestDatabase database, string environment, params string[] args)
    {
        await using var process = Start(database, environment, args);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit();   // drains the redirected streams
        return (process._process.ExitCode, process.Stdout, process.Stderr);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until the process answers <c>/health/ready</c> on the port (its migrations have run), within a minute.</summary>
    public async Task WaitReadyAsync(int port)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Channels.ChannelsApp.WaitUntilAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/health/ready", TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"the service on {port} never became ready: {Stdout} {Stderr}", seconds: 60);
    }

    /// <summary>SIGTERM, as a deployment stops a node; returns how long it took to exit, and its exit code.</summary>
    public async Task<(TimeSpan Took, int ExitCode)> TerminateAsync(TimeSpan patience)
    {
        var started = TimeProvider.System.GetTimestamp();
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return (TimeProvider.System.GetElapsedTime(started), _process.ExitCode);
    }

    /// <summary>SIGKILL: the process gets no chance to finish or release anything.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("sk_live_[0-9A-Za-z]{40}")]
    private static partial System.Text.RegularExpressions.Regex PrintedKey();
}
