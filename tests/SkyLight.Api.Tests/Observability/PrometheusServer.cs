using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SkyLight.Api.Tests.Observability;

/// <summary>
/// Debian's Prometheus server (apt-get install prometheus; .ci/run installs it), scraping one target every second, with
/// its data in a temporary directory, queried through its HTTP API as a dashboard or an alert rule would.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private const string BinaryPath = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, int port)
    {
        (_process, _directory) = (process, directory);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    /// <summary>Starts a server that scrapes <paramref name="target"/> (host:port) at /metrics; skips the test where Prometheus is not installed.</summary>
    public static async Task<PrometheusServer> StartAsync(string target)
    {
        if (!File.Exists(BinaryPath))
        {
            const string Missing = "needs a Prometheus server: apt-get install prometheus (.ci/run installs it)";
            if (Environment.GetEnvironmentVariable("SKYLIGHT_REQUIRE_PROMETHEUS") == "1")
            {
                Assert.Fail(Missing);
            }
            Assert.Skip(Missing);
        }
        var directory = Directory.CreateTempSubdirectory("skylight-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: skylight
                metrics_path: /metrics
                static_configs:
                  - targets: ["{target}"]
            """, TestContext.Current.CancellationToken);
        var port = ServiceProcess.FreePort();
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory,
        };
        foreach (var argument in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn" })
        {
            start.ArgumentList.Add(argument);
        }
        var server = new PrometheusServer(Process.Start(start)!, directory, port);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await Channels.ChannelsApp.WaitUntilAsync(async () => await server.ReadyAsync(), $"Prometheus never became ready: {server.Output}", seconds: 60);
        return server;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The instant vector a PromQL query gives now: each series' labels and value.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await _http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}", TestContext.Current.CancellationToken);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.OK && body.GetProperty("status").GetString() == "success", $"{promql}: {body}");
        return [.. body.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => (
            series.GetProperty("metric").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!),
            double.Parse(series.GetProperty("value")[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)))];
    }

    /// <summary>Waits until the query's one series has the value; fails with what Prometheus holds otherwise.</summary>
    public async Task ExpectAsync(string promql, double value)
    {
        List<(Dictionary<string, string> Labels, double Value)> result = [];
        await Channels.ChannelsApp.WaitUntilAsync(async () => (result = await QueryAsync(promql)) is [{ } only] && only.Value == value,
            $"{promql} never gave {value}: it gives [{string.Join(", ", result.Select(r => r.Value))}]", seconds: 30);
    }

    private async Task<bool> ReadyAsync()
    {
        try
        {
            return (await _http.GetAsync("/-/ready", TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
