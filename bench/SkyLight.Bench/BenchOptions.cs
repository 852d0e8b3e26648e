using System.Globalization;

namespace SkyLight.Bench;

/// <summary>Sizes of a run; every one is a flag (<c>--workspaces 1000</c>), the defaults are the documented run.</summary>
internal sealed record BenchOptions
{
    public int Workspaces { get; init; } = 1_000;
    public int LargeChannels { get; init; } = 100_000;
    public int Connections { get; init; } = 64;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Long enough for tiered JIT with dynamic PGO to settle: the service needs about 10–15 s of load, the ceiling less.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(15);
    public int Webhooks { get; init; } = 1_000;
    public int Connects { get; init; } = 500;
    public TimeSpan ProviderLatency { get; init; } = TimeSpan.FromMilliseconds(300);
    public int ColdStarts { get; init; } = 3;
    public string Output { get; init; } = "bench/results";

    /// <summary>How often each scenario runs; the median of each measure is reported.</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>S6: a PostgreSQL server (Npgsql connection string, no database) for two service nodes; S6 is skipped without it.</summary>
    public string? Postgres { get; init; }

    /// <summary>Scenarios to run (S1…S6); all by default. S0, the ceiling, runs with S1, S2 and S6.</summary>
    public string Only { get; init; } = "S1,S2,S3,S4,S5,S6";

    public bool Runs(string scenario) => Only.Split(',').Contains(scenario, StringComparer.OrdinalIgnoreCase);

    public const string Usage = """
        dotnet run -c Release --project bench/SkyLight.Bench -- [flags]
          --workspaces N      S1: workspaces polled, each with a key and a connected channel (1000)
          --channels N        S2: channels in the database (100000)
          --connections N     concurrent connections of the load generator (64)
          --duration S        seconds measured per load run, after --warmup S (10, 15)
          --repeat N          runs of each scenario; the median is reported (3)
          --postgres CS       S6: a PostgreSQL server for two service nodes (Host=…;Username=…); S6 is skipped without it
          --webhooks N        S3: accounts whose status changes (1000)
          --connects N        S4: concurrent connects (500), --latency-ms N: Unipile's latency (300)
          --cold-starts N     S5: starts measured (3)
          --out DIR           where results.json and results.md go (bench/results)
          --only S1,S3        run only these scenarios (S1…S6, all)
        """;

    public static BenchOptions? Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && args[i] is not ("--out" or "--only" or "--postgres"))
            {
                return null;
            }
            options = args[i] switch
            {
                "--workspaces" => options with { Workspaces = (int)number },
                "--channels" => options with { LargeChannels = (int)number },
                "--connections" => options with { Connections = (int)number },
                "--duration" => options with { Duration = TimeSpan.FromSeconds(number) },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(number) },
                "--webhooks" => options with { Webhooks = (int)number },
                "--connects" => options with { Connects = (int)number },
                "--latency-ms" => options with { ProviderLatency = TimeSpan.FromMilliseconds(number) },
                "--cold-starts" => options with { ColdStarts = (int)number },
                "--out" => options with { Output = args[i + 1] },
                "--only" => options with { Only = args[i + 1] },
                "--repeat" => options with { Repeat = Math.Max(1, (int)number) },
                "--postgres" => options with { Postgres = args[i + 1] },
                _ => null,
            };
            if (options is null)
            {
                return null;
            }
        }
        return args.Length % 2 == 0 ? options : null;
    }
}
