using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Sessions.Api.Http;

/// <summary>What browsers see: CORS for the allowed origins, headers on every answer, and the client module and demo.</summary>
public static class BrowserAccess
{
    /// <summary>Where the build copies Client/ (the browser module and the demo page).</summary>
    private static readonly string ClientFolder = Path.Combine(AppContext.BaseDirectory, "client");

    /// <summary>docs/http-api.md#browsers-on-other-origins-cors: Api:AllowedOrigins, with credentials, never "*".</summary>
    public static IServiceCollection AddBrowserAccess(this IServiceCollection services)
    {
        services.AddCors();
        services.AddSingleton<IConfigureOptions<CorsOptions>, CorsFromAllowedOrigins>();
        return services;
    }

    /// <summary>
    /// On every answer, errors included (set as it starts, after any reset of its headers): nosniff, and
    /// Vary: Origin, since whether CORS headers are sent depends on the Origin (ASP.NET Core adds it only
    /// when more than one origin is allowed).
    /// </summary>
    public static IApplicationBuilder UseBrowserHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (!headers.Vary.Any(v => v is not null && v.Contains(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase)))
                headers.Append(HeaderNames.Vary, HeaderNames.Origin);
            return Task.CompletedTask;
        });
        return next(http);
    });

    /// <summary>
    /// Whether <paramref name="origin"/> is one of Api:AllowedOrigins: case-insensitively, each side without one trailing
    /// "/" (docs/http-api.md#known-devices-and-tighter-limits).
    /// </summary>
    public static bool IsAllowedOrigin(ApiOptions options, string origin)
    {
        var presented = WithoutTrailingSlash(origin);
        foreach (var allowed in options.AllowedOrigins)
        {
            if (WithoutTrailingSlash(allowed).Equals(presented, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private static ReadOnlySpan<char> WithoutTrailingSlash(string text) => text.EndsWith('/') ? text.AsSpan(0, text.Length - 1) : text;

    /// <summary>Answers that carry tokens or personal data are never cached (RFC 6749 5.1).</summary>
    public static TBuilder NoStore<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return await next(context);
        });

    /// <summary>The browser client at /client/ and, in Development, the demo page at /demo/.</summary>
    public static WebApplication UseBrowserClient(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() || !Directory.Exists(ClientFolder))
            return app;
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(ClientFolder), RequestPath = "/client" });
        var demo = Path.Combine(ClientFolder, "demo");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = new PhysicalFileProvider(demo), RequestPath = "/demo" });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(demo), RequestPath = "/demo" });
        return app;
    }

    private sealed class CorsFromAllowedOrigins(IOptions<ApiOptions> options) : IConfigureOptions<CorsOptions>
    {
        public void Configure(CorsOptions cors) => cors.AddDefaultPolicy(policy => policy
            .SetIsOriginAllowed(origin => IsAllowedOrigin(options.Value, origin))
            .AllowCredentials()
            .WithMethods("GET", "POST", "DELETE")
            .WithHeaders("Content-Type", "Authorization", "DPoP")
            .WithExposedHeaders("Retry-After", "WWW-Authenticate", "DPoP-Nonce")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10)));
    }
}
