using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Data;

internal sealed class SqliteSkyLightDb(DbContextOptions<SqliteSkyLightDb> options, CurrentWorkspace workspace, CommitSignals? signals = null)
    : SkyLightDb(options, workspace, signals)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
    }
}

/// <summary>
/// SQLite has no instant type and cannot order DateTimeOffset text; Unix milliseconds keep comparisons and
/// ORDER BY in SQL, as PostgreSQL's timestamptz does.
/// </summary>
internal sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.ToUnixTimeMilliseconds(), v => DateTimeOffset.FromUnixTimeMilliseconds(v));

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite model without starting the app.</summary>
internal sealed class SqliteSkyLightDbDesignTimeFactory : IDesignTimeDbContextFactory<SqliteSkyLightDb>
{
    public SqliteSkyLightDb CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteSkyLightDb>();
        options.UseSkyLightSqlite("Data Source=design-time.db");
        return new SqliteSkyLightDb(options.Options, new CurrentWorkspace());
    }
}
