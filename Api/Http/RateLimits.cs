using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Http;

/// <summary>
/// Per-client-address limits on the endpoints anyone can call (docs/http-api.md#rate-limits), on
/// the endpoints that take an access token (docs/http-api.md#known-devices-and-tighter-limits), and who the client is
/// behind the configured trusted proxies.
/// </summary>
public static class RateLimits
{
    public const string Login = "login", Register = "register", Refresh = "refresh";

    public static IServiceCollection AddRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter();
        services.AddSingleton<IConfigureOptions<RateLimiterOptions>, Policies>();
        services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>, TrustedProxies>();
        return services;
    }

    /// <summary>Resolves X-Forwarded-For from trusted proxies before anything reads the client address.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<ApiOptions>>().Value.TrustedProxies.Length == 0
            ? app
            : app.UseForwardedHeaders();

    // A sliding window: a fixed one lets twice the limit through across a window boundary.
    private static RateLimitPartition<string> PerAddress(HttpContext http, int permitsPerMinute) =>
        RateLimitPartition.GetSlidingWindowLimiter(ClientAddress.Key(http.Connection.RemoteIpAddress), _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permitsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            SegmentsPerWindow = 12,
            QueueLimit = 0,
        });

    private sealed class Policies(IOptions<ApiOptions> options) : IConfigureOptions<RateLimiterOptions>
    {
        public void Configure(RateLimiterOptions limiter)
        {
            var o = options.Value;
            limiter.AddPolicy(Login, http => PerAddress(http, o.LoginsPerMinutePerAddress));
            limiter.AddPolicy(Register, http => PerAddress(http, o.RegistrationsPerMinutePerAddress));
            limiter.AddPolicy(Refresh, http => PerAddress(http, o.RefreshesPerMinutePerAddress));
            // Beside any endpoint policy (the password change keeps the login limit too), and before authentication
            // runs: a flood of forged tokens is refused without a signature check each.
            // Not where only backend clients authenticate: their failures have a limit of their own. The admin API
            // takes access tokens too, so a flood of forged ones is limited there as anywhere.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                http.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not { } authorize
                || authorize.Policy is ClientScopes.Introspect or ClientScopes.Revoke
                    ? RateLimitPartition.GetNoLimiter("")
                    : PerAddress(http, o.AccessTokenRequestsPerMinutePerAddress));
            limiter.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                return new ValueTask(Problems.RetryLater(context.HttpContext, ProblemCatalogue.TooManyAttempts,
                    "Too many requests from this address; retry later.", retryAfter).ExecuteAsync(context.HttpContext));
            };
        }
    }

    private sealed class TrustedProxies(IOptions<ApiOptions> options) : IConfigureOptions<ForwardedHeadersOptions>
    {
        public void Configure(ForwardedHeadersOptions forwarded)
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only what is configured, not ASP.NET Core's loopback defaults; every hop must be trusted to be skipped.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            forwarded.ForwardLimit = null;
            foreach (var proxy in options.Value.TrustedProxies)
            {
                if (proxy.Contains('/', StringComparison.Ordinal))
                    forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
                else
                    forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        }
    }
}
