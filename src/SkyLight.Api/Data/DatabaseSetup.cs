using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SkyLight.Api.Data;

internal static class DatabaseSetup
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary>SQLite unless <c>Database:Provider</c> is <c>Postgres</c>; the connection string is <c>ConnectionStrings:Default</c>.</summary>
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        var provider = builder.Configuration["Database:Provider"] is { Length: > 0 } configured ? configured : Sqlite;
        // the connection string is read when the first context is made, so test hosts and verbs can point it elsewhere
        static string ConnectionString(IServiceProvider services, string fallback) =>
            services.GetRequiredService<IConfiguration>().GetConnectionString("Default") ?? fallback;
        // options built once (singleton), not for every request's context: the benchmark showed the rebuild cost
        // about a third of a millisecond per request. Interceptors registered as services join in (tests use one to
        // hold a request between two of its queries, so a race interleaves the same way every time).
        if (string.Equals(provider, Postgres, StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddDbContext<SkyLightDb, PostgresSkyLightDb>((services, options) =>
                options.UseSkyLightPostgres(ConnectionString(services, "Host=127.0.0.1;Database=skylight")).AddInterceptors(services.GetServices<IInterceptor>()),
                optionsLifetime: ServiceLifetime.Singleton);
        }
        else if (string.Equals(provider, Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddDbContext<SkyLightDb, SqliteSkyLightDb>((services, options) =>
                options.UseSkyLightSqlite(ConnectionString(services, "Data Source=skylight.db")).AddInterceptors(services.GetServices<IInterceptor>()),
                optionsLifetime: ServiceLifetime.Singleton);
        }
        else
        {
            throw new InvalidOperationException($"Database:Provider must be {Sqlite} or {Postgres}, not '{provider}'.");
        }
        builder.Services.AddHealthChecks().AddDbContextCheck<SkyLightDb>("database", tags: ["ready"]);
        // first of all hosted services: every job after it may assume the schema exists
        builder.Services.AddHostedService<Hosting.DatabaseInitializer>();
        return builder;
    }

    public static DbContextOptionsBuilder UseSkyLightSqlite(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(SkyLightDb).Assembly.GetName().Name))
            .UseSnakeCaseNamingConvention().QuietAboutLostRaces().AddInterceptors(JournalInterceptor.Instance, SqliteBusyWait.Instance);

    public static DbContextOptionsBuilder UseSkyLightPostgres(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, postgres => postgres.MigrationsAssembly(typeof(SkyLightDb).Assembly.GetName().Name))
            .UseSnakeCaseNamingConvention().QuietAboutLostRaces().AddInterceptors(JournalInterceptor.Instance);

    /// <summary>
    /// A save that fails on a concurrency token or a unique index is how this service decides races between requests
    /// and nodes; the code that loses handles it. EF would log each at Error, and the first start on PostgreSQL too
    /// (it probes a database that does not exist yet, then creates it). A failure nobody handles still reaches the
    /// unhandled-exception log with its request id, or the failed job's log line.
    /// </summary>
    private static DbContextOptionsBuilder QuietAboutLostRaces(this DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(warnings => warnings.Log(
            (CoreEventId.SaveChangesFailed, LogLevel.Information),
            (RelationalEventId.CommandError, LogLevel.Information),
            (RelationalEventId.ConnectionError, LogLevel.Information)));

    /// <summary>Applies committed migrations; every start and every management verb calls this first.</summary>
    public static async Task MigrateAsync(SkyLightDb db, CancellationToken ct)
    {
        await db.Database.MigrateAsync(ct);   // EF takes a database lock: nodes starting together migrate once
        if (db.Database.GetDbConnection() is SqliteConnection { DataSource: not (null or "" or ":memory:") })
        {
            // WAL lets status pollers read while a webhook writes; the mode is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}
