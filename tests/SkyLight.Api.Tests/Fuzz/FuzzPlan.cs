using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SkyLight.Api.Tests.Fuzz;

/// <summary>How a fuzzed request presents (or fails to present) its credentials.</summary>
internal enum FuzzAuth
{
    ValidKey, ValidBearer, KeyWithWhitespace, None, WrongKey, EmptyBearer, BearerWithoutSpace, TwoKeys, HugeKey, InactiveKey, BasicScheme,
    WebhookSecret, WrongWebhookSecret,
}

/// <summary>
/// One request of the plan. <see cref="Route"/> is the template it was made from (for grouping findings);
/// <see cref="Expected"/> is the status the request must get when only one answer is right.
/// </summary>
internal sealed record FuzzRequest(int Index, int Lane, string Method, string Route, string Path, string InputClass, FuzzAuth Auth,
    string? ContentType, byte[]? Body, bool Chunked = false, int? Expected = null, bool WellFormed = false)
{
    /// <summary>
    /// Syntactically valid JSON sent as application/json: whatever is wrong in it is a validation failure, 422, never 400.
    /// Unless the path holds an encoded NUL, which Kestrel refuses (400) before any route sees the body.
    /// </summary>
    public bool MustNotBe400 => WellFormed && ContentType == "application/json" && !Path.Contains("%00", StringComparison.Ordinal);

    public string BodyExcerpt => Body is null ? "(no body)" : Excerpt(Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 400)), 120) + $" ({Body.Length} bytes)";

    public static string Excerpt(string text, int length)
    {
        var escaped = new StringBuilder();
        foreach (var c in text.Length > length ? text[..length] : text)
        {
            escaped.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c);
        }
        return text.Length > length ? escaped + "…" : escaped.ToString();
    }
}

/// <summary>An operation of the OpenAPI document: its parameters and the fields of its JSON body.</summary>
internal sealed record FuzzOperation(string Method, string Route, IReadOnlyList<(string Name, string In, string Type)> Parameters,
    IReadOnlyList<(string Name, string Type)>? BodyFields)
{
    /// <summary>Every operation in the document, with $ref'd request schemas resolved.</summary>
    public static List<FuzzOperation> FromOpenApi(JsonElement document)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = new List<FuzzOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var parameters = operation.Value.TryGetProperty("parameters", out var list)
                    ? list.EnumerateArray().Select(p => (p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!, TypeOf(p.GetProperty("schema")))).ToList()
                    : [];
                List<(string, string)>? fields = null;
                if (operation.Value.TryGetProperty("requestBody", out var body) &&
                    body.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    var schema = json.GetProperty("schema");
                    if (schema.TryGetProperty("oneOf", out var choices))   // an optional body: null or the request type
                    {
                        schema = choices.EnumerateArray().Single(c => c.TryGetProperty("$ref", out _));
                    }
                    if (schema.TryGetProperty("$ref", out var reference))
                    {
                        schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
                    }
                    fields = [.. schema.GetProperty("properties").EnumerateObject().Select(p => (p.Name, TypeOf(p.Value)))];
                }
                operations.Add(new FuzzOperation(operation.Name.ToUpperInvariant(), path.Name, parameters, fields));
            }
        }
        return operations;
    }

    /// <summary>"integer" or "string": the first non-null type (.NET documents an int as integer-or-string).</summary>
    private static string TypeOf(JsonElement schema) => schema.GetProperty("type") switch
    {
        { ValueKind: JsonValueKind.String } type => type.GetString()!,
        var types => types.EnumerateArray().Select(t => t.GetString()!).First(t => t != "null"),
    };
}

/// <summary>What exists in a lane's workspace before the run, so that some requests reach real rows.</summary>
internal sealed record FuzzTargets(int ChannelId, string AccountId, IReadOnlyList<int> CampaignIds);

/// <summary>
/// The whole run, generated up front from the seed: a systematic sweep (every operation with every wrong
/// method, bad credential, wrong-typed field, odd body, content type and parameter value), then random
/// mixtures, mostly with the valid key, up to the requested count. Same seed, same requests, same order.
/// </summary>
internal sealed class FuzzPlan
{
    public const int BodyLimit = 64 * 1024;

    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=\"utf-8\"", "application/json;charset=UTF-8",
        "application/json; charset=utf-7", "application/json; charset=iso-8859-1", "application/json; charset=", "application/json; charset=nonsense",
        "APPLICATION/JSON", "application/problem+json", "application/vnd.api+json", "text/json", "text/plain", "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=----fuzz", "application/xml", "*/*",
        "application/json, text/plain", ";;;", "garbage", "application/", "/json", "application/json; boundary=\"",
    ];

    /// <summary>Bodies that are not a JSON object of the request type at all.</summary>
    private static readonly (string Class, string Text)[] MalformedBodies =
    [
        ("empty body", ""), ("whitespace", "   \n\t "), ("truncated object", "{\"name\": "), ("unclosed string", "{\"name\": \"abc"),
        ("trailing comma", "{\"name\": \"a\",}"), ("single quotes", "{'name': 'a'}"), ("unquoted key", "{name: \"a\"}"),
        ("comment", "{/* x */ \"name\": \"a\"}"), ("two documents", "{} {}"), ("bare word", "hello"), ("NaN", "{\"name\": NaN}"),
        ("json null", "null"), ("json array", "[]"), ("json string", "\"name\""), ("json number", "42"), ("json true", "true"),
        ("duplicate keys", "{\"name\": \"a\", \"name\": \"b\"}"), ("unknown field only", "{\"unknown_field\": 1}"),
        ("number overflow", "{\"channel_id\": 1e400, \"page\": 99999999999999999999999}"), ("control char raw", "{\"name\": \"a\u0001b\"}"),
        ("lone surrogate escape", "{\"name\": \"\\ud800\"}"), ("low surrogate escape", "{\"name\": \"\\udc00x\", \"username\": \"\\udfff\"}"),
        ("bad escape", "{\"name\": \"\\x41\"}"), ("nul escape", "{\"name\": \"\\u0000\"}"),
    ];

    /// <summary>JSON values put into one field at a time (wrong types, edge values, hostile strings).</summary>
    private static readonly (string Class, string Json)[] FieldValues =
    [
        ("null", "null"), ("true", "true"), ("false", "false"), ("zero", "0"), ("negative", "-1"), ("int max", "2147483647"),
        ("int overflow", "2147483648"), ("long overflow", "99999999999999999999"), ("float", "1.5"), ("exponent", "1e3"),
        ("huge exponent", "1e400"), ("array", "[]"), ("array of string", "[\"a\"]"), ("object", "{}"), ("nested object", "{\"a\": {\"b\": 1}}"),
        ("empty string", "\"\""), ("blank string", "\"   \""), ("numeric string", "\"42\""), ("float string", "\"1.5\""),
        ("lone surrogate", "\"\\ud800\""), ("lone low surrogate", "\"x\\udc00\""), ("nul char", "\"a\\u0000b\""), ("control chars", "\"\\u0001\\u001f\\u007f\""),
        ("unicode", "\"مرحبا 🚀 Ω\""), ("rtl override", "\"\\u202eevil\""), ("sql injection", "\"' OR 1=1 --\""), ("path traversal", "\"../../etc/passwd\""),
        ("html", "\"<script>alert(1)</script>\""), ("format string", "\"{0}%s%n\""), ("crlf", "\"a\\r\\nSet-Cookie: x=1\""),
        ("zone prefix", "\"Asia\""), ("zone slash", "\"Asia/\""), ("zone traversal", "\"../../../etc/localtime\""), ("zone offset", "\"Etc/GMT+99\""),
        ("zone utc", "\"UTC\""), ("string 300", $"\"{new string('s', 300)}\""),
    ];

    /// <summary>Values for path and query parameters, already URL-encoded where they need it.</summary>
    private static readonly (string Class, string Raw)[] ParameterValues =
    [
        ("zero", "0"), ("negative", "-1"), ("int min", "-2147483648"), ("int max", "2147483647"), ("int overflow", "2147483648"),
        ("long overflow", "99999999999999999999"), ("float", "1.5"), ("exponent", "1e3"), ("hex", "0x10"), ("leading zeros", "007"),
        ("word", "abc"), ("empty", ""), ("space", "%20"), ("plus", "+1"), ("sql injection", "%27%20OR%201%3D1%20--"),
        ("traversal", "..%2F..%2Fetc%2Fpasswd"), ("encoded dots", "%2e%2e"), ("nul", "%00"), ("bad percent", "%zz"), ("arabic digits", "%D9%A1%D9%A2"),
        ("unicode", "%F0%9F%9A%80"), ("invalid utf-8", "%FF%FE"), ("lone surrogate", "%ED%A0%80"), ("very long", new string('9', 4000)),
        ("long word", new string('a', 2000)), ("html", "%3Cscript%3E"), ("png", "png"), ("svg", "svg"), ("draft", "draft"), ("upper", "PNG"),
    ];

    private static readonly string[] UnknownPaths =
    [
        "/api/v1/no-such-thing", "/api/v2/account", "/api/v1", "/api/v1/", "/api", "/", "/api/v1/campaigns/1/explode",
        "/api/v1/channels/signal/connect", "/api/v1/channels/whatsapp", "/api/v1/account/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/campaigns/abc", "/api/v1/campaigns/%27%20OR%201%3D1%20--", "/api/v1/campaigns/1.5", "/api/v1/campaigns/99999999999999999999",
        "/api/v1/%F0%9F%9A%80", "/api/v1/%FF", "/webhooks", "/webhooks/unipile/extra", "/openapi/v2.json", "/health", "/api/v1/ACCOUNT/x",
        "/" + new string('a', 3000),
    ];

    private readonly Random _random;
    private readonly IReadOnlyList<FuzzTargets> _lanes;
    private readonly List<FuzzOperation> _operations;
    private readonly List<FuzzRequest> _requests = [];

    private FuzzPlan(int seed, List<FuzzOperation> operations, IReadOnlyList<FuzzTargets> lanes)
    {
        _random = new Random(seed);
        _operations = operations;
        _lanes = lanes;
    }

    /// <summary>
    /// Request i belongs to lane i mod lanes: each lane has a workspace of its own and sends its requests in order,
    /// so lanes run side by side without racing each other for the same rows.
    /// </summary>
    public static List<FuzzRequest> Create(int seed, int count, List<FuzzOperation> operations, IReadOnlyList<FuzzTargets> lanes)
    {
        var plan = new FuzzPlan(seed, operations, lanes);
        plan.Sweep();
        while (plan._requests.Count < count)
        {
            plan.RandomRequest();
        }
        return plan._requests;
    }

    /// <summary>Operations the document leaves out on purpose but a client can still reach.</summary>
    public static IEnumerable<FuzzOperation> Undocumented() =>
    [
        new("POST", "/webhooks/unipile", [], [("AccountStatus", "object")]),
        new("GET", "/health/live", [], null),
        new("GET", "/health/ready", [], null),
        new("GET", "/openapi/v1.json", [], null),
    ];

    /// <summary>The lane of the request about to be added (values are made just before their request is).</summary>
    private int Lane => _requests.Count % _lanes.Count;

    private FuzzTargets Targets => _lanes[Lane];

    private static bool IsWebhook(FuzzOperation operation) => operation.Route.StartsWith("/webhooks", StringComparison.Ordinal);

    private static FuzzAuth GoodAuth(FuzzOperation operation) => IsWebhook(operation) ? FuzzAuth.WebhookSecret : FuzzAuth.ValidKey;

    private void Add(FuzzOperation operation, string path, string inputClass, FuzzAuth auth, string? contentType, byte[]? body,
        bool chunked = false, int? expected = null, string? method = null, bool wellFormed = false) =>
        _requests.Add(new FuzzRequest(_requests.Count, Lane, method ?? operation.Method, operation.Route, path, inputClass, auth, contentType, body, chunked, expected, wellFormed));

    private void Sweep()
    {
        foreach (var operation in _operations)
        {
            var good = GoodAuth(operation);
            Add(operation, ValidPath(operation) + ValidQuery(operation), "valid", good, BodyType(operation), ValidBody(operation));

            // health checks answer any method (MapHealthChecks); every other route must refuse the ones it does not map
            foreach (var method in Methods.Where(m => !operation.Route.StartsWith("/health", StringComparison.Ordinal) && !_operations.Any(o => o.Route == operation.Route && o.Method == m)))
            {
                Add(operation, ValidPath(operation), $"wrong method {method}", good, null, null, expected: 405, method: method);
            }

            foreach (var auth in Enum.GetValues<FuzzAuth>().Where(a => a != good && IsWebhook(operation) == a is FuzzAuth.WebhookSecret or FuzzAuth.WrongWebhookSecret))
            {
                Add(operation, ValidPath(operation) + ValidQuery(operation), $"auth {auth}", auth, BodyType(operation), ValidBody(operation), expected: ExpectedFor(operation, auth));
            }

            // integer query parameters at their edges, against each other's edges: paging arithmetic lives there
            var integers = operation.Parameters.Where(p => p.In == "query" && p.Type == "integer").Select(p => p.Name).ToList();
            foreach (var (first, second) in integers.SelectMany(a => integers.Where(b => b != a).Select(b => (a, b))))
            {
                foreach (var edge in new[] { "2147483647", "1073741824", "-2147483648", "0" })
                {
                    foreach (var other in new[] { "1", "2", "15", "100", "2147483647" })
                    {
                        Add(operation, $"{ValidPath(operation)}?{first}={edge}&{second}={other}", $"parameters {first}={edge}, {second}={other}", good, null, null);
                    }
                }
            }

            foreach (var (name, _, _) in operation.Parameters)
            {
                foreach (var (valueClass, raw) in ParameterValues)
                {
                    Add(operation, WithParameter(operation, name, raw), $"parameter {name}: {valueClass}", good, BodyType(operation), ValidBody(operation));
                }
            }

            if (operation.BodyFields is null)
            {
                // a route without a body still gets a few, of several types
                Add(operation, ValidPath(operation), "unexpected body", good, "application/json", "{\"x\": 1}"u8.ToArray());
                Add(operation, ValidPath(operation), "unexpected garbage body", good, "garbage", [0xff, 0x00, 0xfe]);
                Add(operation, ValidPath(operation), "over-size body", good, "application/json", Oversize(BodyLimit + 1), expected: 413);
                continue;
            }

            foreach (var (field, _) in operation.BodyFields)
            {
                foreach (var (valueClass, json) in FieldValues)
                {
                    Add(operation, ValidPath(operation), $"field {field}: {valueClass}", good, "application/json", ObjectBody(operation, field, json),
                        wellFormed: !valueClass.Contains("surrogate", StringComparison.Ordinal));
                }
                Add(operation, ValidPath(operation), $"field {field}: missing", good, "application/json", ObjectBody(operation, field, null));
                Add(operation, ValidPath(operation), $"field {field}: huge string under the limit", good, "application/json", ObjectBody(operation, field, HugeString(BodyLimit - 200)));
                Add(operation, ValidPath(operation), $"field {field}: huge string over the limit", good, "application/json", ObjectBody(operation, field, HugeString(BodyLimit + 10)), expected: 413);
            }
            foreach (var (bodyClass, text) in MalformedBodies)
            {
                Add(operation, ValidPath(operation), $"body: {bodyClass}", good, "application/json", Encoding.UTF8.GetBytes(text));
            }
            foreach (var (bodyClass, body) in OddBodies(operation))
            {
                Add(operation, ValidPath(operation), $"body: {bodyClass}", good, "application/json", body);
            }
            foreach (var contentType in ContentTypes)
            {
                Add(operation, ValidPath(operation), $"content type {contentType}", good, contentType, ValidBody(operation));
            }
            Add(operation, ValidPath(operation), "no content type", good, null, ValidBody(operation));
            Add(operation, ValidPath(operation), "over-size body (Content-Length)", good, "application/json", Oversize(BodyLimit + 1), expected: 413);
            Add(operation, ValidPath(operation), "over-size body (1 MiB)", good, "application/json", Oversize(1024 * 1024), expected: 413);
            Add(operation, ValidPath(operation), "over-size body (chunked)", good, "application/json", Oversize(BodyLimit + 4096), chunked: true, expected: 413);
        }

        foreach (var unknown in UnknownPaths)
        {
            foreach (var auth in new[] { FuzzAuth.ValidKey, FuzzAuth.None })
            {
                _requests.Add(new FuzzRequest(_requests.Count, Lane, "GET", "(unknown path)", unknown, $"unknown path, {auth}", auth, null, null, Expected: 404));
            }
            // no expected status: routing answers 405 where a path would match a route but for its constraint (campaigns/abc)
            _requests.Add(new FuzzRequest(_requests.Count, Lane, "POST", "(unknown path)", unknown, "unknown path, POST with a body", FuzzAuth.ValidKey,
                "application/json", "{}"u8.ToArray()));
        }
    }

    /// <summary>A request made of random choices: mostly valid keys and small mutations, now and then something hostile.</summary>
    private void RandomRequest()
    {
        var operation = _operations[_random.Next(_operations.Count)];
        var auth = _random.Next(100) switch
        {
            < 80 => GoodAuth(operation),
            < 85 => IsWebhook(operation) ? FuzzAuth.WrongWebhookSecret : FuzzAuth.ValidBearer,
            _ => Pick(Enum.GetValues<FuzzAuth>()),
        };
        var path = operation.Parameters.Count == 0 || _random.Next(3) == 0 ? ValidPath(operation) : RandomParameters(operation);
        if (_random.Next(25) == 0)
        {
            var method = Pick(Methods);
            if (!operation.Route.StartsWith("/health", StringComparison.Ordinal) && !_operations.Any(o => o.Route == operation.Route && o.Method == method))
            {
                // on a valid path: a random parameter such as %2e%2e takes the path out of the route, and that is a 404
                Add(operation, ValidPath(operation), $"wrong method {method}", auth, null, null, expected: 405, method: method);
                return;
            }
        }
        if (operation.BodyFields is null)
        {
            Add(operation, path + (path.Contains('?', StringComparison.Ordinal) ? "" : ValidQuery(operation)), "random parameters", auth, null, null);
            return;
        }

        var contentType = _random.Next(10) == 0 ? Pick(ContentTypes) : "application/json";
        switch (_random.Next(10))
        {
            case 0:
                var (bodyClass, text) = Pick(MalformedBodies);
                Add(operation, path, $"body: {bodyClass}", auth, contentType, Encoding.UTF8.GetBytes(text));
                break;
            case 1:
                var (oddClass, odd) = Pick(OddBodies(operation).ToArray());
                Add(operation, path, $"body: {oddClass}", auth, contentType, odd);
                break;
            case 2 or 3:
                Add(operation, path, $"valid, content type {contentType}", auth, contentType, ValidBody(operation));
                break;
            default:
                // several fields mutated at once
                var mutated = new Dictionary<string, string?>();
                var classes = new List<string>();
                foreach (var (field, _) in operation.BodyFields.Where(_ => _random.Next(2) == 0))
                {
                    var (valueClass, json) = Pick(FieldValues);
                    mutated[field] = json;
                    classes.Add($"{field}: {valueClass}");
                }
                Add(operation, path, classes.Count == 0 ? "valid" : "fields " + string.Join(", ", classes), auth, contentType, ObjectBody(operation, mutated),
                    wellFormed: !classes.Exists(c => c.Contains("surrogate", StringComparison.Ordinal)));
                break;
        }
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private static int? ExpectedFor(FuzzOperation operation, FuzzAuth auth)
    {
        if (operation.Route.StartsWith("/webhooks", StringComparison.Ordinal))
        {
            return auth == FuzzAuth.WebhookSecret ? null : 401;
        }
        if (!operation.Route.StartsWith("/api/v1", StringComparison.Ordinal))
        {
            return null;   // health and the document need no key
        }
        return auth switch
        {
            FuzzAuth.ValidKey or FuzzAuth.ValidBearer or FuzzAuth.KeyWithWhitespace => null,
            FuzzAuth.InactiveKey => 403,
            _ => 401,
        };
    }

    private string ValidPath(FuzzOperation operation) =>
        operation.Route.Replace("{id}", ValidId(operation), StringComparison.Ordinal).Replace("{delivery_id}", ValidValue("delivery_id", "string"), StringComparison.Ordinal);

    /// <summary>A campaign's id where ids are numbers; a GUID (a connect link's, most likely unknown) where they are strings.</summary>
    private string ValidId(FuzzOperation operation) => operation.Parameters.Any(p => p.Name == "id" && p.Type == "string")
        ? ValidValue("delivery_id", "string")
        : Pick(Targets.CampaignIds).ToString(CultureInfo.InvariantCulture);

    private string ValidQuery(FuzzOperation operation)
    {
        var query = operation.Parameters.Where(p => p.In == "query" && _random.Next(2) == 0).Select(p => $"{p.Name}={ValidValue(p.Name, p.Type)}").ToList();
        return query.Count == 0 ? "" : "?" + string.Join('&', query);
    }

    private string ValidValue(string name, string type) => name switch
    {
        "account_id" => Targets.AccountId,
        "format" => _random.Next(2) == 0 ? "png" : "svg",
        "status" => "draft",
        "per_page" => Pick(["1", "2", "15", "100"]),
        "delivery_id" => new Guid(_random.Next(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).ToString(),
        _ => type == "integer" ? "1" : "x",
    };

    /// <summary>The operation's path and query with one parameter set to a raw (pre-encoded) value.</summary>
    private string WithParameter(FuzzOperation operation, string name, string raw)
    {
        var path = operation.Parameters.Any(p => p.In == "path" && p.Name == name)
            ? operation.Route.Replace($"{{{name}}}", raw, StringComparison.Ordinal)
            : ValidPath(operation);
        var query = operation.Parameters.Where(p => p.In == "query")
            .Select(p => p.Name == name ? $"{p.Name}={raw}" : $"{p.Name}={ValidValue(p.Name, p.Type)}").ToList();
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    private string RandomParameters(FuzzOperation operation)
    {
        var path = operation.Route;
        var query = new List<string>();
        foreach (var (name, location, type) in operation.Parameters)
        {
            var raw = _random.Next(2) == 0 ? Pick(ParameterValues).Raw : name == "id" ? ValidId(operation) : ValidValue(name, type);
            if (location == "path")
            {
                path = path.Replace($"{{{name}}}", raw.Length == 0 ? "0" : raw, StringComparison.Ordinal);
            }
            else if (_random.Next(4) != 0)
            {
                query.Add($"{name}={raw}");
                if (_random.Next(10) == 0)
                {
                    query.Add($"{name}={Pick(ParameterValues).Raw}");   // the same parameter twice
                }
            }
        }
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    private static string? BodyType(FuzzOperation operation) => operation.BodyFields is null ? null : "application/json";

    private byte[]? ValidBody(FuzzOperation operation) => operation.BodyFields is null ? null : ObjectBody(operation, new Dictionary<string, string?>());

    private byte[] ObjectBody(FuzzOperation operation, string field, string? json) => ObjectBody(operation, new Dictionary<string, string?> { [field] = json });

    /// <summary>A JSON object with a valid value for every field, except the overridden ones (null: left out).</summary>
    private byte[] ObjectBody(FuzzOperation operation, Dictionary<string, string?> overrides)
    {
        var members = new List<string>();
        foreach (var (field, type) in operation.BodyFields!)
        {
            var json = overrides.TryGetValue(field, out var value) ? value : ValidField(field, type);
            if (json is not null)
            {
                members.Add($"{JsonSerializer.Serialize(field)}: {json}");
            }
        }
        return Encoding.UTF8.GetBytes("{" + string.Join(", ", members) + "}");
    }

    private string ValidField(string field, string type) => field switch
    {
        "channel_id" => Targets.ChannelId.ToString(CultureInfo.InvariantCulture),
        "name" => JsonSerializer.Serialize($"Fuzz {_random.Next(1000)}"),
        "timezone" => JsonSerializer.Serialize(_random.Next(2) == 0 ? "Europe/Berlin" : "Asia/Riyadh"),
        "username" => JsonSerializer.Serialize($"fuzz_user_{_random.Next(1000)}"),
        "password" => "\"correct horse battery staple\"",
        "country" => "\"SA\"",
        "account_id" => JsonSerializer.Serialize(Targets.AccountId),
        "code" => "\"123456\"",
        "url" => "\"http://127.0.0.1:9/fuzz\"",   // nobody listens on the discard port: deliveries are refused and retried
        "events" => Pick(["[\"*\"]", "[\"channel.connected\", \"webhook.test\"]"]),
        "is_active" => _random.Next(2) == 0 ? "true" : "false",
        "AccountStatus" => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["account_id"] = _random.Next(2) == 0 ? Targets.AccountId : $"unknown-{_random.Next(1000)}", ["account_type"] = "TELEGRAM", ["message"] = "OK",
        }),
        _ => type == "integer" ? "1" : "\"x\"",
    };

    private static string HugeString(int length) => "\"" + new string('h', length) + "\"";

    private static byte[] Oversize(int length)
    {
        var body = new byte[length];
        Array.Fill(body, (byte)' ');
        body[0] = (byte)'[';
        body[^1] = (byte)']';
        return body;
    }

    /// <summary>Bodies that are odd at the byte level: nesting, encodings, invalid UTF-8, surrogates where the service reads them.</summary>
    private IEnumerable<(string Class, byte[] Body)> OddBodies(FuzzOperation operation)
    {
        yield return ("array nested 10,000 deep", Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000)));
        yield return ("object nested 10,000 deep", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000)));
        yield return ("field nested 65 deep", ObjectBody(operation, operation.BodyFields![0].Name, new string('[', 65) + new string(']', 65)));
        yield return ("utf-8 BOM", [0xef, 0xbb, 0xbf, .. ValidBody(operation)!]);
        yield return ("utf-16 body", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(ValidBody(operation)!)));
        yield return ("invalid utf-8 in string", [.. "{\"name\": \""u8, 0xff, 0xfe, 0xc0, 0xaf, .. "\"}"u8]);
        yield return ("truncated utf-8 sequence", [.. "{\"username\": \"ab"u8, 0xe2, 0x82, .. "\", \"password\": \"x\"}"u8]);
        yield return ("utf-8 encoded surrogate", [.. "{\"name\": \""u8, 0xed, 0xa0, 0x80, .. "\"}"u8]);
        yield return ("nul bytes", [.. "{\"name\":"u8, 0x00, .. " \"a\"}"u8]);
        yield return ("every field a lone surrogate", ObjectBody(operation, operation.BodyFields!.ToDictionary(f => f.Name, _ => (string?)"\"\\ud800\"")));
        yield return ("every field null", ObjectBody(operation, operation.BodyFields!.ToDictionary(f => f.Name, _ => (string?)"null")));
        if (IsWebhook(operation))
        {
            // the service stores the webhook and reads it later: hostile values must not stop its inbox
            foreach (var (valueClass, json) in new[] { ("lone surrogate", "\"\\ud800\""), ("nul char", "\"\\u0000\""), ("number", "42"), ("huge", HugeString(60_000)) })
            {
                yield return ($"webhook account_id {valueClass}", Encoding.UTF8.GetBytes($"{{\"AccountStatus\": {{\"account_id\": {json}, \"account_type\": \"TELEGRAM\", \"message\": \"OK\"}}}}"));
                yield return ($"webhook message {valueClass}", Encoding.UTF8.GetBytes($"{{\"AccountStatus\": {{\"account_id\": \"{Targets.AccountId}\", \"account_type\": \"TELEGRAM\", \"message\": {json}}}}}"));
            }
        }
    }
}
