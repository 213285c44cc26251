using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Sessions.Samples.AspNetApi;

/// <summary>The backend client this API introspects as (Sessions' Api:Clients entry with scope "introspect").</summary>
public sealed class IntrospectionOptions
{
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    /// <summary>How long an answer is reused: a revocation reaches this API at most this late.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Refuses a token whose session has ended, by asking Sessions' introspection endpoint (from discovery).</summary>
public sealed class LiveSessions(HttpClient http, IMemoryCache cache, IntrospectionOptions options)
{
    public async Task CheckAsync(TokenValidatedContext context)
    {
        if (context.SecurityToken is not JsonWebToken { EncodedToken: var token })
        {
            context.Fail("Not a JWT.");
            return;
        }
        var active = await cache.GetOrCreateAsync(token, async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = options.CacheFor;
            var metadata = await context.Options.ConfigurationManager!.GetConfigurationAsync(context.HttpContext.RequestAborted);
            var answer = await http.IntrospectTokenAsync(new TokenIntrospectionRequest
            {
                Address = metadata.IntrospectionEndpoint,
                ClientId = options.ClientId,
                ClientSecret = options.ClientSecret,
                Token = token,
                TokenTypeHint = "access_token",
            }, context.HttpContext.RequestAborted);
            // Fail closed: when Sessions cannot be asked, the token is not taken.
            return !answer.IsError && answer.IsActive;
        });
        if (!active)
            context.Fail("The session of this access token has ended.");
    }
}
