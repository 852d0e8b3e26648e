using SkyLight.Api.Campaigns;
using SkyLight.Api.Channels;
using SkyLight.Api.Connect;
using SkyLight.Api.Data;
using SkyLight.Api.Errors;
using SkyLight.Api.Hosting;
using SkyLight.Api.Idempotency;
using SkyLight.Api.Notifications;
using SkyLight.Api.Observability;
using SkyLight.Api.RateLimiting;
using SkyLight.Api.Tenancy;
using SkyLight.Api.Unipile;
using SkyLight.Api.Webhooks;
using SkyLight.Api.Workspaces;

var builder = WebApplication.CreateBuilder(args);
var isManagementVerb = ManagementVerbs.IsInvocation(args);
if (isManagementVerb)
{
    // stdout carries the verb's one JSON line; warnings and errors go to stderr
    builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(null, LogLevel.Warning);
}

builder.UseDefaultAddress();        // http://127.0.0.1:5080 unless --urls says otherwise
builder.AddDatabase();              // SQLite file skylight.db unless ConnectionStrings:Default says otherwise
builder.AddTenancy();               // API key → CurrentWorkspace
builder.AddErrorEnvelope();         // every error is {"success": false, "message": ...}
builder.AddTelemetry();             // OpenTelemetry metrics (/metrics, OTLP) and traces; JSON console logs
builder.AddRateLimiting();          // per API key, X-RateLimit-* headers
builder.AddApiDocs();               // /openapi/v1.json and /docs
if (!isManagementVerb)
{
    builder.AddEmbeddedUnipileWhenUnconfigured();   // Development without Unipile:BaseUrl: the emulator, in-process
}
builder.Services.AddUnipile();      // typed client for Unipile:BaseUrl with X-API-KEY
builder.AddChannels();              // connect attempts, status sync, remote deletions, expiry
builder.AddUnipileWebhooks();       // receiver inbox, and our webhook registered with Unipile
builder.AddOutgoingWebhooks();      // signed deliveries of channel events to the integrator's endpoints
builder.AddConnectLinks();          // links to the hosted connect page, /connect/{token}
builder.AddIdempotency();           // Idempotency-Key on POSTs: a retried request is answered, not run again
builder.Services.AddValidation();
builder.Services.ConfigureHttpJsonOptions(json =>
{
    json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
    json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;   // the web default reads "5" as 5
});
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddScoped<WorkspaceProvisioning>();

var app = builder.Build();
if (isManagementVerb)
{
    return await ManagementVerbs.RunAsync(app.Services, args, Console.Out, Console.Error);
}

app.UseErrorEnvelope();
app.UseAuthentication();
app.UseAuthorization();
app.UseMiddleware<RateLimitMiddleware>();
app.UseMiddleware<IdempotencyMiddleware>();

app.MapApiDocs();
app.MapMetrics();                   // Prometheus scrape endpoint, unless Metrics:Enabled is false
app.MapHealth();
app.MapUnipileWebhooks();
app.MapConnect();                   // the hosted connect page: no API key, its link's token

var api = app.MapGroup("/api/v1").RequireAuthorization();
api.MapAccount();
api.MapChannels();
api.MapCampaigns();
api.MapWebhookEndpoints();
api.MapConnectLinks();

await app.RunAsync();
return 0;
