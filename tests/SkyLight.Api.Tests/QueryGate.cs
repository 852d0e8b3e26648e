using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SkyLight.Api.Tests;

/// <summary>
/// Holds a request right after one of its queries (found by its EF tag) until the test lets it go, so a race
/// between two requests interleaves the same way on every run instead of by luck.
/// </summary>
public sealed class QueryGate : DbCommandInterceptor
{
    private readonly Lock _sync = new();
    private (string Tag, TaskCompletionSource Reached, TaskCompletionSource Released)? _armed;

    /// <summary>The next query tagged <paramref name="tag"/> stops after it ran; the returned task completes when one did.</summary>
    public Task Arm(string tag)
    {
        lock (_sync)
        {
            _armed = (tag, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return _armed.Value.Reached.Task;
        }
    }

    /// <summary>Lets the held query's request go on.</summary>
    public void Release()
    {
        lock (_sync)
        {
            _armed?.Released.TrySetResult();
            _armed = null;
        }
    }

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
        CancellationToken cancellationToken = default)
    {
        Task? wait = null;
        lock (_sync)
        {
            if (_armed is { } armed && command.CommandText.Contains(armed.Tag, StringComparison.Ordinal) && !armed.Reached.Task.IsCompleted)
            {
                armed.Reached.TrySetResult();
                wait = armed.Released.Task;
            }
        }
        if (wait is not null)
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        return result;
    }
}
