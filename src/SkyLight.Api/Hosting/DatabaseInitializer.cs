using Microsoft.EntityFrameworkCore;
using SkyLight.Api.Data;
using SkyLight.Api.Workspaces;

namespace SkyLight.Api.Hosting;

/// <summary>
/// Applies migrations before the server accepts requests, and on a developer's first start creates a
/// "Default" workspace whose key is printed once, so the API can be called right away.
/// </summary>
internal sealed class DatabaseInitializer(IServiceScopeFactory scopes, IHostEnvironment environment) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SkyLightDb>();
        await DatabaseSetup.MigrateAsync(db, cancellationToken);

        if (environment.IsDevelopment() && !await db.Workspaces.AnyAsync(cancellationToken))
        {
            var (workspace, key) = await scope.ServiceProvider.GetRequiredService<WorkspaceProvisioning>()
                .CreateWorkspaceAsync("Default", Workspace.DefaultTimeZone, cancellationToken);
            // Straight to the console, never through the logger: log sinks must not keep keys.
            await Console.Out.WriteLineAsync($"""

                SkyLight: created workspace "Default" (id {workspace.Id}). Its API key, shown only this once:

                    {key}

                Try it:  curl -H "X-Api-Key: {key}" http://127.0.0.1:5080/api/v1/account

                """);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
