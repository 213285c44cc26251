using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api.Account;

public sealed record MeResponse(Guid UserId, string Email, string[] Roles, Guid SessionId);

/// <summary>The caller's own account (access token required).</summary>
public static class AccountApi
{
    public static RouteGroupBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("").WithTags("Account").RequireAuthorization().NoStore();
        account.MapGet("/me", Me).ProducesProblem(401);
        return account;
    }

    private static Ok<MeResponse> Me(HttpContext http) => TypedResults.Ok(new MeResponse(
        Caller.UserId(http),
        http.User.FindFirst(Claims.Email)?.Value ?? "",
        http.User.FindAll(Claims.Role).Select(c => c.Value).ToArray(),
        Caller.SessionId(http)));
}
