using System.Data.Common;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Tests.Channels;

namespace SkyLight.Api.Tests.Races;

/// <summary>ChannelsApp plus a <see cref="Pause"/> that can hold a request at a point QueryGate cannot reach.</summary>
public class PausableChannelsApp : ChannelsApp
{
    public PauseGate Pause { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Pause));
    }
}

/// <summary>
/// Holds the first command (after it ran) whose SQL satisfies a predicate, or the first transaction begun from a
/// call stack naming a marker, until released. Used to model a slow or stalled node deterministically.
/// </summary>
public sealed class PauseGate : IDbCommandInterceptor, IDbTransactionInterceptor
{
    private readonly Lock _sync = new();
    private Func<string, bool>? _command;
    private string? _stackMarker;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task ArmCommand(Func<string, bool> predicate)
    {
        lock (_sync)
        {
            Reset();
            _command = predicate;
            return _reached.Task;
        }
    }

    public Task ArmTransaction(string stackMarker)
    {
        lock (_sync)
        {
            Reset();
            _stackMarker = stackMarker;
            return _reached.Task;
        }
    }

    private void Reset()
    {
        _released.TrySetResult();
        _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release()
    {
        lock (_sync)
        {
            _command = null;
            _stackMarker = null;
            _released.TrySetResult();
        }
    }

    private Task? Hit(Func<bool> matches, ref bool consumed)
    {
        lock (_sync)
        {
            if (!_reached.Task.IsCompleted && matches())
            {
                consumed = true;
                _reached.TrySetResult();
                return _released.Task;
            }
            return null;
        }
    }

    public async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        var consumed = false;
        if (Hit(() => _command is { } p && p(command.CommandText), ref consumed) is { } wait)
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        }
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        var consumed = false;
        if (Hit(() => _stackMarker is { } m && Environment.StackTrace.Contains(m, StringComparison.Ordinal), ref consumed) is { } wait)
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        }
        return result;
    }
}
