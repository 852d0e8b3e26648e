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
/// request path, and a connect page's path is its link's token: every token is replaced with <c>{token}</c> (see
/// <see cref="Redact"/>).
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
        // relaxed: a log is no HTML page, and Arabic or a '+' stays readable; invalid text is still escaped
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
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
                var written = new HashSet<string>(StringComparer.Ordinal) { "{OriginalFormat}" };
                foreach (var (key, value) in arguments.Where(a => written.Add(a.Key)))   // a template may name an argument twice
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

    /// <summary>
    /// A connect link's token, wherever a path shows it (/connect/{token}/..., routing ignores case), is a secret of the
    /// link's holder; an API key or a webhook secret someone put in a URL's query is theirs.
    /// </summary>
    public static string? Redact(string? text) =>
        text is null ? null : Secret().Replace(ConnectToken().Replace(text, "/connect/{token}"), match => match.Groups["kind"].Value + "{redacted}");

    [GeneratedRegex("/connect/[A-Za-z0-9_-]+", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectToken();

    [GeneratedRegex("(?<kind>sk_live_|whsec_)[A-Za-z0-9_-]+")]
    private static partial Regex Secret();

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
