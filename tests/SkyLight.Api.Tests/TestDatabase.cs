using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SkyLight.Api.Tests;

/// <summary>
/// Where a test host keeps its data: a SQLite file of its own, or, when <c>SKYLIGHT_TEST_POSTGRES</c> holds a
/// server's connection string, a database of its own on that PostgreSQL server (created by the service's
/// migrations, dropped at the end). The whole suite runs on either.
/// </summary>
public sealed class TestDatabase
{
    private static readonly string? PostgresServer = Environment.GetEnvironmentVariable("SKYLIGHT_TEST_POSTGRES") is { Length: > 0 } server ? server : null;

    private TestDatabase(string provider, string connectionString, string name)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Name = name;
    }

    public static bool IsPostgres => PostgresServer is not null;

    public string Provider { get; }
    public string ConnectionString { get; }

    /// <summary>The SQLite file, or the PostgreSQL database name.</summary>
    public string Name { get; }

    public static TestDatabase New()
    {
        var id = Guid.NewGuid().ToString("N");
        if (PostgresServer is not null)
        {
            var name = $"skylight_test_{id}";
            return new TestDatabase("Postgres", new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name }.ConnectionString, name);
        }
        var folder = Path.Combine(Path.GetTempPath(), "skylight-tests");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{id}.db");
        return new TestDatabase("Sqlite", $"Data Source={path}", path);
    }

    /// <summary>A context on this database outside any service, for tests that check what a real process left behind.</summary>
    internal Data.SkyLightDb Open()
    {
        if (IsPostgres)
        {
            var postgres = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Data.PostgresSkyLightDb>();
            Data.DatabaseSetup.UseSkyLightPostgres(postgres, ConnectionString);
            return new Data.PostgresSkyLightDb(postgres.Options, new SkyLight.Api.Tenancy.CurrentWorkspace());
        }
        var sqlite = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Data.SqliteSkyLightDb>();
        Data.DatabaseSetup.UseSkyLightSqlite(sqlite, ConnectionString);
        return new Data.SqliteSkyLightDb(sqlite.Options, new SkyLight.Api.Tenancy.CurrentWorkspace());
    }

    /// <summary>The settings that point the service at this database (configuration keys).</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Database:Provider"] = Provider,
        ["ConnectionStrings:Default"] = ConnectionString,
    };

    /// <summary>Everything stored, as text: the SQLite files byte for byte, or every row of every PostgreSQL table.</summary>
    public async Task<string> ReadEverythingStoredAsync()
    {
        if (!IsPostgres)
        {
            return string.Concat(SqliteFiles().Select(file =>
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.Latin1);
                return reader.ReadToEnd();
            }));
        }
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t", connection);
            text.AppendLine((string?)await rows.ExecuteScalarAsync());
        }
        return text.ToString();
    }

    public async Task DropAsync()
    {
        if (!IsPostgres)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in SqliteFiles())
            {
                File.Delete(file);
            }
            return;
        }
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(PostgresServer);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private IEnumerable<string> SqliteFiles() => new[] { Name, Name + "-wal", Name + "-shm" }.Where(File.Exists);
}
