using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using SkyLight.Api.Errors;

namespace SkyLight.Api.Hosting;

/// <summary>
/// The OpenAPI document is generated from the endpoints; <c>/docs</c> renders it. Errors are documented as
/// they are sent: the SkyLight envelope as application/json, validation as 422, never ProblemDetails.
/// </summary>
internal static class ApiDocs
{
    private const string ErrorSchema = "ErrorEnvelope";

    /// <summary>What any authenticated route can answer, whatever the endpoint.</summary>
    private static readonly int[] EveryApiRoute = [401, 403, 429, 500];

    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "SkyLight Chat Channels API";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "A workspace API key (sk_live_…). Authorization: Bearer <key> works too.",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
            DescribeErrors(document);
            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/v1.json");   // the one document: another name is a 404 in the envelope, not the framework's text
        app.MapScalarApiReference("/docs", options => options.WithTitle("SkyLight Channels API"));
        return app;
    }

    /// <summary>Declares the error statuses an endpoint answers beyond the ones every /api/v1 route can.</summary>
    public static RouteHandlerBuilder Errors(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            endpoint.ProducesProblem(status);
        }
        return endpoint;
    }

    private static void DescribeErrors(OpenApiDocument document)
    {
        document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ErrorSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "success", "message" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["success"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Const = "false" },
                ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "422 validation only: messages by snake_case field name.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
                ["retry_after"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "429 only: seconds until the window resets." },
            },
            Examples = [JsonNode.Parse("""{"success": false, "message": "Unauthenticated. Please provide a valid API key."}""")!],
        };
        document.Components.Schemas.Remove("HttpValidationProblemDetails");
        document.Components.Schemas.Remove("ProblemDetails");

        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations?.ToList() ?? [])
            {
                operation.Responses ??= [];
                var statuses = operation.Responses.Keys.Where(IsError).Select(int.Parse).ToHashSet();
                if (statuses.Remove(400) && operation.RequestBody is not null)
                {
                    statuses.Add(422);   // the framework's validation is a 422 here
                }
                if (operation.RequestBody is not null)
                {
                    statuses.UnionWith([400, 413, 415, 422]);
                }
                if (path.StartsWith("/api/v1", StringComparison.Ordinal))
                {
                    statuses.UnionWith(EveryApiRoute);
                    if (method == HttpMethod.Post)
                    {
                        DescribeIdempotencyKey(operation);
                        statuses.UnionWith([400, 409, 422]);
                    }
                }
                foreach (var code in operation.Responses.Keys.Where(IsError).ToList())
                {
                    operation.Responses.Remove(code);
                }
                foreach (var status in statuses.Order())
                {
                    operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
                    {
                        Description = ErrorMessages.ForStatus(status),
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/json"] = new() { Schema = new OpenApiSchemaReference(ErrorSchema, document) },
                        },
                    };
                }
            }
        }
    }

    private static void DescribeIdempotencyKey(OpenApiOperation operation)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = Idempotency.IdempotencyMiddleware.KeyHeader,
            In = ParameterLocation.Header,
            Description = "1–255 visible ASCII characters (\"…\" accepted). A repeat within 24 h gets the first answer again, with " +
                "Idempotent-Replayed: true, and does no work; the same key with another body is a 422; while the first runs, a 409 with Retry-After.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
        });
    }

    private static bool IsError(string code) => code.Length == 3 && code[0] is '4' or '5';
}
