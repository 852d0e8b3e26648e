using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace SkyLight.Api.Observability;

/// <summary>
/// One JSON object per line (<c>Logging:Console:FormatterName=json</c>): time, level, category, message, the arguments
/// of the message, and for a request's lines its request id (the <c>X-Request-Id</c> it answers with), trace id and
/// span id. Written here rather than with the framework's JSON formatter because that one, with scopes on, prints the
/// request path, and a connect page's path is its link's token: every token is replaced with <c>{token}</c>.
/// </summary>
internal sealed partial class JsonLogFormatter(TimeProvider time) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "skylight-json";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }
        var request = new RequestFields();
        scopeProvider?.ForEachScope(static (scope, fields) => fields.Take(scope), request);
        if (Activity.Current is { } activity)
        {
            request.TraceId ??= activity.TraceId.ToHexString();
            request.SpanId ??= activity.SpanId.ToHexString();
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", time.GetUtcNow());
            json.WriteString("level", logEntry.LogLevel.ToString());
            json.WriteString("category", logEntry.Category);
            json.WriteNumber("event_id", logEntry.EventId.Id);
            json.WriteString("message", Redact(message));
            WriteIfSet(json, "request_id", request.RequestId);
            WriteIfSet(json, "trace_id", request.TraceId);
            WriteIfSet(json, "span_id", request.SpanId);
            WriteIfSet(json, "request_path", Redact(request.RequestPath));
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", Redact(exception.ToString()));
            }
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> { Count: > 1 } arguments)
            {
                json.WriteStartObject("state");
                foreach (var (key, value) in arguments.Where(a => a.Key != "{OriginalFormat}"))
                {
                    json.WriteString(key, Redact(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)));
                }
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>A connect link's token, wherever a path shows it (/connect/{token}/...), is a secret of the link's holder.</summary>
    public static string? Redact(string? text) => text is null ? null : ConnectToken().Replace(text, "/connect/{token}");

    [GeneratedRegex("/connect/[A-Za-z0-9_-]+")]
    private static partial Regex ConnectToken();

    /// <summary>What the scopes say of the request: ASP.NET Core's (RequestId, RequestPath) and the activity's (TraceId, SpanId).</summary>
    private sealed class RequestFields
    {
        public string? RequestId;
        public string? RequestPath;
        public string? TraceId;
        public string? SpanId;

        public void Take(object? scope)
        {
            if (scope is not IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                return;
            }
            foreach (var (key, value) in pairs)
            {
                switch (key)
                {
                    case "RequestId":
                        RequestId = value?.ToString();
                        break;
                    case "RequestPath":
                        RequestPath = value?.ToString();
                        break;
                    case "TraceId":
                        TraceId = value?.ToString();
                        break;
                    case "SpanId":
                        SpanId = value?.ToString();
                        break;
                    default:
                        break;
                }
            }
        }
    }
}
