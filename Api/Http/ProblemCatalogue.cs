namespace Sessions.Api.Http;

/// <summary>
/// One error code of docs/http-api.md#errors: the statuses it answers with and its title, which is the same for every
/// occurrence (RFC 9457 3.1.3); what happened this time goes in the problem's detail.
/// </summary>
public sealed class ProblemType
{
    internal ProblemType(string error, string title, params int[] statuses) => (Error, Title, Statuses) = (error, title, statuses);

    /// <summary>The problem body's error member, and the anchor of the code's row in docs/http-api.md#errors.</summary>
    public string Error { get; }
    public string Title { get; }
    public IReadOnlyList<int> Statuses { get; }

    /// <summary>The status of a code that has one; a code with several needs the caller to pick.</summary>
    public int Status => Statuses is [var only] ? only
        : throw new InvalidOperationException($"{Error} answers with {string.Join(" or ", Statuses)}: name the status.");

    /// <summary>
    /// The problem's type: the code's row in the published docs/http-api.md when <see cref="ApiOptions.ErrorDocsUrl"/>
    /// says where that is, else a URN that names the code.
    /// </summary>
    public string TypeUri(Uri? errorDocs) =>
        errorDocs is null ? $"urn:sessions:problem:{Error}" : new UriBuilder(errorDocs) { Fragment = Error }.Uri.AbsoluteUri;

    public override string ToString() => Error;
}

/// <summary>
/// Every error code the Api answers with, its statuses and its title: the one place a problem's status and title come
/// from (<see cref="Problems"/>). docs/http-api.md#errors lists the same, checked by ProblemCatalogueTests.
/// </summary>
public static class ProblemCatalogue
{
    // 405 comes from the framework (a wrong method), 408 and 413 from Kestrel, 421 from the management listener's Host guard.
    public static readonly ProblemType InvalidRequest = new("invalid_request", "The request is not valid.", 400, 405, 408, 413, 415, 421);
    public static readonly ProblemType EmailTaken = new("email_taken", "This email is already registered.", 409);
    /// <summary>401 at login; 403 where the caller is signed in (password change, password check).</summary>
    public static readonly ProblemType InvalidCredentials = new("invalid_credentials", "The credentials are wrong.", 401, 403);
    public static readonly ProblemType TooManyAttempts = new("too_many_attempts", "Too many attempts; retry later.", 429);
    public static readonly ProblemType MissingToken = new("missing_token", "No refresh token was presented.", 401);
    public static readonly ProblemType OriginNotAllowed = new("origin_not_allowed", "This origin may not use the refresh-token cookie.", 403);
    /// <summary>403 for a refresh token (refresh, logout); 400 for a mailed link's token (verification, reset).</summary>
    public static readonly ProblemType InvalidGrant = new("invalid_grant", "The token is not valid.", 400, 403);
    public static readonly ProblemType InvalidToken = new("invalid_token", "A valid access token is required.", 401);
    /// <summary>400 at login, refresh and logout; 401 at protected endpoints.</summary>
    public static readonly ProblemType InvalidDpopProof = new("invalid_dpop_proof", "The DPoP proof is missing or not valid.", 400, 401);
    public static readonly ProblemType NotFound = new("not_found", "Not found.", 404);
    public static readonly ProblemType InvalidClient = new("invalid_client", "Valid client credentials are required.", 401);
    /// <summary>A backend client lacking the endpoint's scope, or a user lacking its role.</summary>
    public static readonly ProblemType InsufficientScope = new("insufficient_scope", "The caller may not use this endpoint.", 403);
    public static readonly ProblemType AccountDisabled = new("account_disabled", "This account is disabled.", 403);
    /// <summary>An endpoint that only sends mail, on a service configured without SMTP.</summary>
    public static readonly ProblemType EmailNotConfigured = new("email_not_configured", "This service sends no mail.", 501);
    public static readonly ProblemType Unavailable = new("unavailable", "The service is temporarily unavailable; retry shortly.", 503);
    public static readonly ProblemType InternalError = new("internal_error", "An unexpected error occurred.", 500);

    public static IReadOnlyList<ProblemType> All { get; } =
    [
        InvalidRequest, EmailTaken, InvalidCredentials, TooManyAttempts, MissingToken, OriginNotAllowed, InvalidGrant, InvalidToken,
        InvalidDpopProof, NotFound, InvalidClient, InsufficientScope, AccountDisabled, EmailNotConfigured, Unavailable, InternalError,
    ];

    /// <summary>The code of an answer the framework made on its own (an unknown path, a wrong method).</summary>
    public static ProblemType OfFrameworkStatus(int status) => status switch
    {
        404 => NotFound,
        >= 500 => InternalError,
        _ => InvalidRequest,
    };

    public static ProblemType? Find(string? error) => All.FirstOrDefault(p => p.Error == error);
}
