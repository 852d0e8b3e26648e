using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using SkyLight.Api.Tenancy;

namespace SkyLight.Api.Data;

/// <summary>PostgreSQL: instants are timestamptz natively; its own migrations live in Data/Migrations/Postgres.</summary>
internal sealed class PostgresSkyLightDb(DbContextOptions<PostgresSkyLightDb> options, CurrentWorkspace workspace, CommitSignals? signals = null)
    : SkyLightDb(options, workspace, signals);

/// <summary>Lets <c>dotnet ef migrations add</c> build the PostgreSQL model; it never connects.</summary>
internal sealed class PostgresSkyLightDbDesignTimeFactory : IDesignTimeDbContextFactory<PostgresSkyLightDb>
{
    public PostgresSkyLightDb CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresSkyLightDb>();
        options.UseSkyLightPostgres("Host=127.0.0.1;Database=design_time");
        return new PostgresSkyLightDb(options.Options, new CurrentWorkspace());
    }
}
