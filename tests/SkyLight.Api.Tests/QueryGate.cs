using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SkyLight.Api.Tests;

/// <summary>
/// Holds a request at a chosen point until the test lets it go, so a race between two requests interleaves the same
/// way on every run instead of by luck: right after a query (found by its EF tag, or any SQL predicate), or when a
/// transaction starts from a call stack that names a marker (a class that has no query of its own to tag).
/// </summary>
public sealed class QueryGate : DbCommandInterceptor, IDbTransactionInterceptor
{
    private readonly Lock _sync = new();
    private Armed? _armed;

    /// <summary>The next query tagged <paramref name="tag"/> stops after it ran; the returned task completes when one did.</summary>
    public Task Arm(string tag) => ArmCommand(sql => sql.Contains(tag, StringComparison.Ordinal));

    /// <summary>The next command whose SQL matches stops after it ran.</summary>
    public Task ArmCommand(Func<string, bool> matches) => Arm(matches, null);

    /// <summary>The next query tagged <paramref name="tag"/> stops before it runs, so what commits meanwhile is in its result.</summary>
    public Task ArmBefore(string tag) => Arm(null, null, sql => sql.Contains(tag, StringComparison.Ordinal));

    /// <summary>The next transaction begun from a call stack naming <paramref name="stackMarker"/> stops before it starts.</summary>
    public Task ArmTransaction(string stackMarker) => Arm(null, stackMarker);

    /// <summary>Lets the held request go on.</summary>
    public void Release()
    {
        lock (_sync)
        {
            _armed?.Released.TrySetResult();
            _armed = null;
        }
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await HoldIfAsync(armed => armed.CommandBefore?.Invoke(command.CommandText) == true, cancellationToken);
        return result;
    }

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
        CancellationToken cancellationToken = default)
    {
        await HoldIfAsync(armed => armed.Command?.Invoke(command.CommandText) == true, cancellationToken);
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        await HoldIfAsync(armed => armed.StackMarker is { } marker && Environment.StackTrace.Contains(marker, StringComparison.Ordinal), cancellationToken);
        return result;
    }

    private Task Arm(Func<string, bool>? command, string? stackMarker, Func<string, bool>? commandBefore = null)
    {
        lock (_sync)
        {
            _armed?.Released.TrySetResult();
            _armed = new Armed(command, stackMarker, commandBefore);
            return _armed.Reached.Task;
        }
    }

    private async Task HoldIfAsync(Func<Armed, bool> matches, CancellationToken cancellationToken)
    {
        Task? wait = null;
        lock (_sync)
        {
            if (_armed is { } armed && !armed.Reached.Task.IsCompleted && matches(armed))
            {
                armed.Reached.TrySetResult();
                wait = armed.Released.Task;
            }
        }
        if (wait is not null)
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
    }

    private sealed record Armed(Func<string, bool>? Command, string? StackMarker, Func<string, bool>? CommandBefore)
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
