using Microsoft.Extensions.Options;

namespace Unipile.Emulator;

/// <summary>Builds the emulator, for its own process or for hosting inside another (the service, tests).</summary>
public static class EmulatorApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddOptions<EmulatorOptions>().BindConfiguration(EmulatorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // names on the wire are written exactly as Unipile spells them: account_id, AccountStatus, ...
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = null);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EmulatorState>();
        builder.Services.AddSingleton<Logins>();
        builder.Services.AddSingleton<WebhookDispatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<WebhookDispatcher>());
        builder.Services.AddHttpClient(nameof(WebhookDispatcher));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api/v1"), api =>
        {
            api.UseExceptionHandler(failed => failed.Run(http =>
                Wire.Error(http, 500, "errors/unexpected_error", "Internal Server Error", "The emulator failed on this request.").ExecuteAsync(http)));
            api.UseMiddleware<ApiKeyCheck>();
            api.UseMiddleware<FaultInjection>();
        });

        var v1 = app.MapGroup("/api/v1");
        v1.MapAccounts();
        v1.MapWebhooks();
        v1.MapFallback((HttpContext http) => Wire.NotFound(http, $"Cannot {http.Request.Method} {http.Request.Path}."));
        app.MapEmulatorControls();
        return app;
    }
}

/// <summary>Unipile authenticates every call with the X-API-KEY header.</summary>
internal sealed class ApiKeyCheck(RequestDelegate next, IOptions<EmulatorOptions> options)
{
    public Task InvokeAsync(HttpContext http) =>
        http.Request.Headers["X-API-KEY"] == options.Value.ApiKey
            ? next(http)
            : Wire.Error(http, 401, "errors/missing_credentials", "Unauthorized", "Missing or invalid X-API-KEY.").ExecuteAsync(http);
}

/// <summary>Applies the scripted latency and faults to Unipile calls (never to the control routes).</summary>
internal sealed class FaultInjection(RequestDelegate next, EmulatorState state, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext http)
    {
        Fault? fault;
        int latency;
        lock (state.Sync)
        {
            latency = state.LatencyMs;
            fault = state.TakeFault(http.Request);
            state.Requests.Add((http.Request.Method, http.Request.Path.Value ?? "", time.GetUtcNow()));
        }
        var delay = latency + (fault?.DelayMs ?? 0);
        if (delay > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(delay), time, http.RequestAborted);
        }
        if (fault?.Status is { } status)
        {
            var answer = fault.Body is { } raw
                ? Results.Text(raw, fault.ContentType ?? "text/html", statusCode: status)
                : Wire.Error(http, status, ErrorType(status), ReasonPhrase(status), "Fault injected by the emulator.");
            await answer.ExecuteAsync(http);
            return;
        }
        if (fault?.ContentType is { } contentType)
        {
            http.Response.OnStarting(() =>
            {
                if (contentType.Length == 0)
                {
                    http.Response.Headers.Remove("Content-Type");
                }
                else
                {
                    http.Response.ContentType = contentType;
                }
                return Task.CompletedTask;
            });
        }
        if (fault?.AnswerDelayMs is > 0 and var answerDelay)
        {
            await AnswerLateAsync(http, answerDelay);
            return;
        }
        await next(http);
    }

    /// <summary>Carries the call out at once, and sends its answer only after the delay (to whoever is still listening).</summary>
    private async Task AnswerLateAsync(HttpContext http, int delayMs)
    {
        var wire = http.Response.Body;
        using var answer = new MemoryStream();
        http.Response.Body = answer;
        try
        {
            await next(http);
        }
        finally
        {
            http.Response.Body = wire;
        }
        await Task.Delay(TimeSpan.FromMilliseconds(delayMs), time, CancellationToken.None);
        answer.Position = 0;
        try
        {
            await answer.CopyToAsync(wire, http.RequestAborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // the caller stopped waiting: the work stands all the same
        }
    }

    private static string ErrorType(int status) => status switch
    {
        503 => "errors/service_unavailable",
        504 or 408 => "errors/request_timeout",
        401 => "errors/missing_credentials",
        >= 500 => "errors/unexpected_error",
        _ => "errors/invalid_request",
    };

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
