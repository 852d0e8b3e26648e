using System.Text;

// The ceiling: bare ASP.NET Core answering the exact bytes of a WhatsApp status response, with no auth, no
// database and no rate limiter. The service is measured as a ratio to this, in the same run.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
var body = Encoding.UTF8.GetBytes(
    """{"success":true,"data":{"id":1,"type":"whatsapp","username":"+966501234567","is_connected":true,"sync_status":"OK","last_synced_at":"2026-03-11T10:00:00+03:00","completed":true,"in_progress":false}}""");
app.MapGet("/api/v1/channels/whatsapp/status", (HttpContext http) =>
{
    http.Response.ContentType = "application/json; charset=utf-8";
    return http.Response.Body.WriteAsync(body).AsTask();
});
app.MapGet("/health/ready", () => "Healthy");
app.Run();
