using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace SkyLight.Api.Hosting;

/// <summary>The OpenAPI document is generated from the endpoints; <c>/docs</c> renders it.</summary>
internal static class ApiDocs
{
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
            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi();   // /openapi/v1.json
        app.MapScalarApiReference("/docs", options => options.WithTitle("SkyLight Channels API"));
        return app;
    }
}
