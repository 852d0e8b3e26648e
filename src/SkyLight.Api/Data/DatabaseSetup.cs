using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace SkyLight.Api.Data;

internal static class DatabaseSetup
{
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        // read when the first context is made, so test hosts and verbs can point it elsewhere
        builder.Services.AddDbContext<SkyLightDb, SqliteSkyLightDb>((services, options) => options.UseSkyLightSqlite(
            services.GetRequiredService<IConfiguration>().GetConnectionString("Default") ?? "Data Source=skylight.db"));
        builder.Services.AddHealthChecks().AddDbContextCheck<SkyLightDb>("database", tags: ["ready"]);
        // first of all hosted services: every job after it may assume the schema exists
        builder.Services.AddHostedService<Hosting.DatabaseInitializer>();
        return builder;
    }

    public static DbContextOptionsBuilder UseSkyLightSqlite(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(SkyLightDb).Assembly.GetName().Name))
            .UseSnakeCaseNamingConvention();

    /// <summary>Applies committed migrations; every start and every management verb calls this first.</summary>
    public static async Task MigrateAsync(SkyLightDb db, CancellationToken ct)
    {
        await db.Database.MigrateAsync(ct);
        if (db.Database.GetDbConnection() is SqliteConnection { DataSource: not (null or "" or ":memory:") })
        {
            // WAL lets status pollers read while a webhook writes; the mode is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}
