using System.Text.Json;
using Sessions.Api.Http;

namespace Sessions.Api.Dpop;

/// <summary>
/// Access tokens at protected endpoints (docs/http-api.md#dpop-sender-constrained-tokens): a bound token (cnf.jkt) only as "Authorization: DPoP" with a
/// proof whose ath is the token's hash and whose key is cnf.jkt; an unbound one only as Bearer. A request sent with
/// the DPoP scheme carries this feature, and so does any request refused for a DPoP reason: its challenge is then
/// "DPoP error=…, algs=ES256" instead of Bearer. Bearer requests with unbound tokens never allocate it.
/// </summary>
public sealed class DpopAuthentication
{
    public const string Scheme = "DPoP";
    /// <summary>RFC 9449 6: {"jkt": thumbprint of the key the session is bound to}.</summary>
    public const string ConfirmationClaim = "cnf";

    /// <summary>The access token when it came with the DPoP scheme; null for Bearer.</summary>
    public string? AccessToken { get; private init; }

    /// <summary>invalid_token or invalid_dpop_proof, once the request is refused for a DPoP reason.</summary>
    public ProblemType? Error { get; private set; }

    /// <summary>"Authorization: DPoP token" (the scheme case-insensitively, RFC 9110 11.1): the token, and the feature noted on the request.</summary>
    public static string? ReadToken(HttpContext http)
    {
        var authorization = http.Request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } value
            || value.Length <= Scheme.Length + 1 || value[Scheme.Length] != ' '
            || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        var token = value[(Scheme.Length + 1)..].Trim();
        http.Features.Set(new DpopAuthentication { AccessToken = token });
        return token.Length > 0 ? token : null;
    }

    public static DpopAuthentication? Of(HttpContext http) => http.Features.Get<DpopAuthentication>();

    /// <summary>Notes why the request is refused, for the challenge.</summary>
    public static void Refuse(HttpContext http, ProblemType error)
    {
        var feature = Of(http);
        if (feature is null)
            http.Features.Set(feature = new DpopAuthentication());
        feature.Error = error;
    }

    /// <summary>The challenge of a request sent with DPoP or refused for a DPoP reason; null for a plain Bearer one.</summary>
    public static ProblemType? ChallengeError(HttpContext http) =>
        Of(http) is { } feature ? feature.Error ?? ProblemCatalogue.InvalidToken : null;

    /// <summary>The jkt of a validated access token's cnf claim (JSON); null when cnf is not what we issue.</summary>
    public static string? BoundKey(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == JsonValueKind.String
                ? jkt.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
