using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.Api.Dpop;
using Sessions.Api.Email;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Auth;

/// <summary>Register, login, refresh, logout and logout-all (docs/http-api.md#endpoints).</summary>
public static partial class AuthApi
{
    private const int MaxLoggedLength = 512;
    private const int MaxDeviceTokenLength = 128;

    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/auth").WithTags("Auth");
        auth.MapPost("/register", RegisterAsync).RequireRateLimiting(RateLimits.Register)
            .AcceptsJson<RegisterRequest>()
            .ProducesProblems(409, 429);
        auth.MapPost("/login", LoginAsync).RequireRateLimiting(RateLimits.Login).NoStore()
            .AcceptsJson<LoginRequest>()
            .ProducesProblems(401, 403, 429, 503);
        auth.MapPost("/refresh", RefreshAsync).RequireRateLimiting(RateLimits.Refresh).NoStore()
            .AcceptsJson<RefreshRequest>()
            .ProducesProblems(401, 403, 429, 503);
        // Logout shares refresh's per-address limit: both reach a session grain for any token presented.
        auth.MapPost("/logout", LogoutAsync).RequireRateLimiting(RateLimits.Refresh)
            .AcceptsJson<RefreshRequest>()
            .ProducesProblems(401, 403, 503);
        auth.MapPost("/logout-all", LogoutAllAsync).RequireAuthorization()
            .ProducesProblems(401, 503);
        return auth;
    }

    private static async Task<Results<Created<RegisterResponse>, ProblemHttpResult>> RegisterAsync(
        HttpContext http, [AsParameters] AuthServices services, MailOutbox outbox, IOptions<EmailOptions> mail)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<RegisterRequest>(http);
        if (problem is not null)
            return problem;
        if (!Credentials.TryNormalizeEmail(body!.Email?.Trim(), out var email))
            return Problems.BadRequest("email must be an email address.");
        if (Credentials.MixesScripts(email))
            return Problems.BadRequest("email mixes letters of different scripts in one part (a look-alike of another address).");
        if (!Credentials.IsValidPassword(body.Password))
            return Problems.BadRequest($"password must be {Credentials.MinPasswordLength} to {Credentials.MaxPasswordLength} characters.");

        var result = await services.Calls.Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email))
            .RegisterAsync(new RegistrationAttempt(body.Password, services.Calls.Deadline()));
        if (!result.Registered)
            return Problems.Of(ProblemCatalogue.EmailTaken, "This email is already registered.");
        EmailApi.QueueVerification(outbox, services.Calls.Grains, mail.Value, result.UserId);
        return TypedResults.Created((string?)null, new RegisterResponse(result.UserId));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> LoginAsync(HttpContext http, [AsParameters] AuthServices services)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<LoginRequest>(http);
        if (problem is not null)
            return problem;
        if (!Credentials.TryNormalizeEmail(body!.Email?.Trim(), out var email))
            return Problems.BadRequest("email must be an email address.");
        if (body.Password is not { Length: > 0 and <= ClientInput.MaxPresentedPasswordLength })
            return Problems.BadRequest("password is required.");
        if (body.RefreshTokenIn is not (null or "cookie" or "body"))
            return Problems.BadRequest("refreshTokenIn must be \"cookie\" or \"body\".");

        // DPoP: a valid proof binds the new session to its key; a failing one opens no session.
        var dpop = services.Dpop.Read(http);
        if (dpop.Status == DpopProofStatus.Invalid)
            return Problems.BadDpopProof();

        // A session this node could not hand out would count against the user's session limit.
        if (!services.Tokens.CanIssue)
            return Unavailable(http, services.Options.Value);
        var client = ClientInput.Client(http);
        var inBody = body.RefreshTokenIn == "body";
        // A known device is judged by its own failures only; its token comes the way this client's tokens go.
        var deviceToken = inBody ? body.DeviceToken : http.Request.Cookies[RefreshTokenTransport.DeviceCookieName];
        var result = await services.Calls.Grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email))
            .LoginAsync(new LoginAttempt(body.Password, client, services.Calls.Deadline(), dpop.Proof, deviceToken is { Length: <= MaxDeviceTokenLength } ? deviceToken : null));
        // The email index and user grains log the security events: they know the account, if any.
        switch (result.Status)
        {
            case LoginStatus.InvalidProof:
                return Problems.BadDpopProof();
            case LoginStatus.TooManyAttempts:
                return Problems.TooManyFailedLogins(http, result.RetryAfter);
            case LoginStatus.AccountDisabled:
                return Problems.Of(ProblemCatalogue.AccountDisabled, "This account is disabled.");
            case LoginStatus.InvalidCredentials:
                return Problems.Of(ProblemCatalogue.InvalidCredentials, StatusCodes.Status401Unauthorized, "The email or password is wrong.");
            default:
                if (!inBody && result.DeviceToken is { } device)
                    services.Transport.SetDeviceCookie(http, device);
                return Grant(http, services, result.Grant!, inBody, inBody ? result.DeviceToken : null);
        }
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(HttpContext http, [AsParameters] AuthServices services)
    {
        var started = Stopwatch.GetTimestamp();
        var (tokens, fromCookie, problem) = await PresentedAsync(http, services.Transport, services.Logger);
        if (problem is not null)
            return problem;
        // Rotate only what this node can hand out (docs/http-api.md#rotation-and-reuse-detection, rule 4).
        if (!services.Tokens.CanIssue)
            return Unavailable(http, services.Options.Value);

        // DPoP: the session decides. A proof that failed the checks here counts as none: a bound session refuses the
        // refresh, an unbound one ignores the header. Without a header this is one lookup.
        var proof = services.Dpop.Read(http).Proof;
        // Several cookies (one planted by a sibling subdomain, say): the first that works answers. A token of
        // someone else's ended session must not sign the user out, and one that does not verify revokes nothing.
        var result = new RefreshResult(RefreshStatus.Invalid);
        foreach (var token in tokens)
        {
            if (!RefreshToken.TryParse(token, out var parsed))
                continue;
            result = await RefreshOnceMoreIfLostAsync(services, services.Calls.Grains.GetGrain<ISessionGrain>(parsed.SessionId), token!, ClientInput.Client(http), proof);
            if (result.Succeeded || result.Status is RefreshStatus.Unavailable or RefreshStatus.InvalidProof or RefreshStatus.KeyMismatch)
                break;
        }
        switch (result.Status)
        {
            case RefreshStatus.Rotated or RefreshStatus.Replayed:
                return Grant(http, services, result.Grant!, inBody: !fromCookie);
            case RefreshStatus.Unavailable:
                return Unavailable(http, services.Options.Value);
            // Nothing rotated and nothing was revoked: the token stays, and so does its cookie.
            case RefreshStatus.InvalidProof:
                return Problems.BadDpopProof();
            case RefreshStatus.KeyMismatch:
                return Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status403Forbidden, "The refresh token is not valid.");
            default:
                if (result.Status == RefreshStatus.Invalid)
                    await AnswerNoSoonerAsync(started, InvalidRefreshTokenFloor);
                if (fromCookie)
                    services.Transport.ClearCookie(http);
                return Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status403Forbidden, "The refresh token is not valid.");
        }
    }

    /// <summary>
    /// A token that does not verify is answered no sooner than this after its request arrived. A forged token naming
    /// a session in memory is refused at once, one naming no session only after a storage read: without a floor
    /// well above that read, the time of the answer would tell whether a session id exists.
    /// </summary>
    internal static readonly TimeSpan InvalidRefreshTokenFloor = TimeSpan.FromMilliseconds(10);

    private static async Task AnswerNoSoonerAsync(long started, TimeSpan floor)
    {
        // Timers tick in whole milliseconds and may fire a fraction early: wait again until the floor has passed.
        for (var wait = floor - Stopwatch.GetElapsedTime(started); wait > TimeSpan.Zero; wait = floor - Stopwatch.GetElapsedTime(started))
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)));
    }

    /// <summary>
    /// A silo that stops or fails drops the calls its connections still carry, and their answers never come.
    /// Sending the token again is what the client would do after our 503, only sooner: had the lost call rotated,
    /// it did so less than a response timeout ago, inside the reuse grace window, so this is a replay; had it not
    /// run yet, its deadline has passed and the grain drops it. Not with a DPoP proof: the lost call may have
    /// spent the proof's jti, and only the client can make a new proof.
    /// </summary>
    private static async Task<RefreshResult> RefreshOnceMoreIfLostAsync(AuthServices services, ISessionGrain session, string token, ClientInfo client, DpopProof? proof)
    {
        try
        {
            return await session.RefreshAsync(services.RefreshAttempt(token, client, proof));
        }
        catch (TimeoutException) when (proof is null)
        {
            LogRefreshLost(services.Logger, session.GetPrimaryKey());
            return await session.RefreshAsync(services.RefreshAttempt(token, client, proof));
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> LogoutAsync(
        HttpContext http, IGrainFactory grains, RefreshTokenTransport transport, DpopProofValidator dpop, ILogger<AuthServices> logger)
    {
        var (tokens, _, problem) = await PresentedAsync(http, transport, logger);
        if (problem is not null)
            return problem;

        // 204 whatever the tokens were: already revoked, expired, or not ours (which revokes nothing). Of
        // several cookies, the first that verifies is the one logged out. A bound session wants a proof by its key.
        var proof = dpop.Read(http).Proof;
        var status = LogoutStatus.Invalid;
        foreach (var token in tokens)
        {
            if (!RefreshToken.TryParse(token, out var parsed))
                continue;
            status = await grains.GetGrain<ISessionGrain>(parsed.SessionId).LogoutAsync(new LogoutAttempt(token!, ClientInput.Client(http), proof));
            if (status != LogoutStatus.Invalid)
                break;
        }
        switch (status)
        {
            case LogoutStatus.InvalidProof:
                return Problems.BadDpopProof();
            case LogoutStatus.KeyMismatch:
                return Problems.Of(ProblemCatalogue.InvalidGrant, StatusCodes.Status403Forbidden, "The refresh token is not valid.");
        }
        transport.ClearCookie(http);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> LogoutAllAsync(HttpContext http, IGrainFactory grains, RefreshTokenTransport transport)
    {
        await grains.GetGrain<IUserGrain>(Caller.UserId(http)).RevokeAllSessionsAsync(new AllSessionsRevocation(RevocationReason.LogoutAll));
        transport.ClearCookie(http);
        return TypedResults.NoContent();
    }

    /// <summary>The refresh tokens of a refresh or logout: from the body or else the cookies, which must come from an allowed origin.</summary>
    private static async Task<(StringValues Tokens, bool FromCookie, ProblemHttpResult? Problem)> PresentedAsync(HttpContext http, RefreshTokenTransport transport, ILogger logger)
    {
        var (body, problem) = await RequestBody.ReadJsonAsync<RefreshRequest>(http, optional: true);
        if (problem is not null)
            return (default, false, problem);
        var (tokens, fromCookie) = RefreshTokenTransport.Presented(http, body?.RefreshToken);
        if (StringValues.IsNullOrEmpty(tokens))
            return (default, fromCookie, Problems.Of(ProblemCatalogue.MissingToken, "No refresh token was presented."));
        if (fromCookie && !transport.OriginAllowed(http))
        {
            // Both are the client's text, bound for a log: without terminal escapes or bidi overrides.
            SecurityEvents.OriginRefused(logger, UnicodeText.WithoutHidden(http.Request.Path.Value, MaxLoggedLength) ?? "",
                UnicodeText.WithoutHidden(http.Request.Headers.Origin.ToString(), MaxLoggedLength) ?? "", http.Connection.RemoteIpAddress?.ToString());
            return (tokens, fromCookie, Problems.Of(ProblemCatalogue.OriginNotAllowed, "This origin may not use the refresh-token cookie."));
        }
        return (tokens, fromCookie, null);
    }

    private static Results<Ok<TokenResponse>, ProblemHttpResult> Grant(HttpContext http, AuthServices services, SessionGrant grant, bool inBody, string? deviceToken = null)
    {
        if (services.Tokens.Issue(grant) is not { } accessToken)
            return Unavailable(http, services.Options.Value);
        if (!inBody)
            services.Transport.SetCookie(http, grant.RefreshToken, grant.RefreshTokenExpiresAt);
        return TypedResults.Ok(new TokenResponse(accessToken, grant.DpopJkt is null ? "Bearer" : DpopAuthentication.Scheme, services.Tokens.LifetimeSeconds, grant.SessionId,
            grant.RefreshTokenExpiresAt, inBody ? grant.RefreshToken : null, deviceToken));
    }

    private static ProblemHttpResult Unavailable(HttpContext http, ApiOptions options) =>
        Problems.RetryLater(http, ProblemCatalogue.Unavailable,
            "The service is temporarily unavailable; retry shortly.", TimeSpan.FromSeconds(options.RetryAfterSecondsWhenUnavailable));


    [LoggerMessage(EventId = LogEventIds.Requests + 6, Level = LogLevel.Warning, Message = "A refresh of session {SessionId} got no answer in time; sending it once more")]
    private static partial void LogRefreshLost(ILogger logger, Guid sessionId);
}
