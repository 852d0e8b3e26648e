using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SkyLight.Api.Data;

/// <summary>
/// SQLite: a writer that finds the database busy waits inside SQLite, which tries again after 1, 2, 5, 10… ms, instead of
/// in Microsoft.Data.Sqlite, which tries again only every 150 ms. With webhooks applied as they arrive, writers meet
/// often; the benchmark's webhook-to-visible p99 was over a second with the 150 ms retries.
/// </summary>
internal sealed class SqliteBusyWait : DbConnectionInterceptor
{
    public static readonly SqliteBusyWait Instance = new();

    /// <summary>The command timeout's default: how long a writer waits before the statement fails as busy.</summary>
    private const int WaitMilliseconds = 30_000;

    /// <summary>Pooled connections keep the setting: it is made once per SQLite handle.</summary>
    private readonly ConditionalWeakTable<object, object> _configured = [];

    private SqliteBusyWait()
    {
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (FirstOpen(connection))
        {
            using var command = Command(connection);
            command.ExecuteNonQuery();
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (FirstOpen(connection))
        {
            await using var command = Command(connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private bool FirstOpen(DbConnection connection) =>
        connection is SqliteConnection { Handle: { } handle } && _configured.TryAdd(handle, handle);

    private static DbCommand Command(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {WaitMilliseconds};";
        return command;
    }
}
