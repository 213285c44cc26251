using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Http;

/// <summary>Per-client-address limits on the endpoints anyone can call (API.md, "Limits and malformed requests").</summary>
public sealed class RateLimits(IOptions<ApiOptions> options) : IConfigureOptions<RateLimiterOptions>
{
    public const string Login = "login", Register = "register", Refresh = "refresh";

    public void Configure(RateLimiterOptions limiter)
    {
        var o = options.Value;
        limiter.AddPolicy(Login, http => PerAddress(http, o.LoginsPerMinutePerAddress));
        limiter.AddPolicy(Register, http => PerAddress(http, o.RegistrationsPerMinutePerAddress));
        limiter.AddPolicy(Refresh, http => PerAddress(http, o.RefreshesPerMinutePerAddress));
        limiter.OnRejected = (context, _) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
            return new ValueTask(Problems.RetryLater(context.HttpContext, StatusCodes.Status429TooManyRequests, Problems.TooManyAttempts,
                "Too many requests from this address; retry later.", retryAfter).ExecuteAsync(context.HttpContext));
        };
    }

    private static RateLimitPartition<string> PerAddress(HttpContext http, int permitsPerMinute) =>
        RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permitsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
}
