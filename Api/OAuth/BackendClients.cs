using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Sessions.Api.Http;

namespace Sessions.Api.OAuth;

/// <summary>One backend of the "Api:Clients" option: its id, the SHA-256 of its secret (never the secret) and its scopes.</summary>
public sealed class BackendClientOptions
{
    public string ClientId { get; set; } = "";
    /// <summary>Lowercase hex SHA-256 of the secret's UTF-8 bytes: <c>printf %s "$secret" | sha256sum</c>.</summary>
    public string SecretHash { get; set; } = "";
    /// <summary>A subset of <see cref="ClientScopes.All"/>; an entry may hold several, separated by spaces or commas.</summary>
    public string[] Scopes { get; set; } = [];

    public IEnumerable<string> ScopeNames => Scopes.SelectMany(s => s.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static IEnumerable<string> Validate(IReadOnlyList<BackendClientOptions> clients)
    {
        foreach (var client in clients)
        {
            // Basic credentials split at the first colon (RFC 7617 2).
            if (string.IsNullOrWhiteSpace(client.ClientId) || client.ClientId.Contains(':') || client.ClientId.Any(char.IsControl))
                yield return $"\"{client.ClientId}\" is not a client id: it must be set, without colons or control characters.";
            if (client.SecretHash.Length != 64 || !client.SecretHash.All(char.IsAsciiHexDigitLower))
                yield return $"the SecretHash of \"{client.ClientId}\" must be the lowercase hex SHA-256 of its secret (printf %s \"$secret\" | sha256sum).";
            if (client.ScopeNames.FirstOrDefault(scope => !ClientScopes.All.Contains(scope)) is { } unknown)
                yield return $"\"{client.ClientId}\" has the unknown scope \"{unknown}\" (known: {string.Join(", ", ClientScopes.All)}).";
        }
        if (clients.GroupBy(c => c.ClientId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            yield return $"\"{twice.Key}\" is registered more than once.";
    }
}

/// <summary>The registered backend clients, checked in constant time against the SHA-256 of the presented secret.</summary>
public sealed class BackendClients
{
    /// <summary>docs/http-api.md#backend-clients: shorter secrets are refused, whatever their hash.</summary>
    public const int MinSecretLength = 32;
    private static readonly byte[] NoClient = new byte[SHA256.HashSizeInBytes];
    private readonly Dictionary<string, (byte[] SecretHash, string[] Scopes)> _clients;

    public BackendClients(IOptions<ApiOptions> options) =>
        _clients = options.Value.Clients.ToDictionary(c => c.ClientId, c => (Convert.FromHexString(c.SecretHash), c.ScopeNames.Distinct().ToArray()), StringComparer.Ordinal);

    /// <summary>The client's scopes when the secret is its own; null otherwise.</summary>
    public string[]? Authenticate(string clientId, string secret)
    {
        var found = _clients.TryGetValue(clientId, out var client);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), hash);
        // The same work for an unknown client id as for a wrong secret.
        var matches = CryptographicOperations.FixedTimeEquals(hash, found ? client.SecretHash : NoClient);
        return found && matches && secret.Length >= MinSecretLength ? client.Scopes : null;
    }
}

/// <summary>
/// Failed client authentications per address (docs/http-api.md#backend-clients), counted on this node: a secret of 32
/// characters cannot be guessed, so the limit keeps a misconfigured or hostile caller from costing hashes, not a guess.
/// </summary>
public sealed class FailedClientAuthentications(IOptions<ApiOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.MaxFailedClientAuthentications,
            Window = options.Value.FailedClientAuthenticationWindow,
            QueueLimit = 0,
        }));

    /// <summary>How long the address must wait, when it has used up its failures.</summary>
    public TimeSpan? LockedFor(string address)
    {
        using var lease = _failures.AttemptAcquire(address, 0);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Value.FailedClientAuthenticationWindow;
    }

    public void Count(string address) => _failures.AttemptAcquire(address).Dispose();

    public void Dispose() => _failures.Dispose();
}

/// <summary>
/// HTTP Basic for backend clients (client_secret_basic, RFC 6749 2.3.1): 401 invalid_client with a Basic challenge,
/// 403 insufficient_scope, 429 too_many_attempts once an address has failed too often.
/// </summary>
public sealed class BackendClientAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    BackendClients clients, FailedClientAuthentications failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";
    public const string ClientIdClaim = "client_id";
    private TimeSpan? _lockedFor;

    public static void AddPolicies(AuthorizationBuilder authorization)
    {
        // "admin" is the admin API's policy, which takes an admin user's access token too.
        foreach (var scope in new[] { ClientScopes.Introspect, ClientScopes.Revoke })
            authorization.AddPolicy(scope, policy => policy.AddAuthenticationSchemes(SchemeName).RequireClaim(ClientScopes.ClaimType, scope));
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.NoResult());
        var address = ClientAddress.Key(Context.Connection.RemoteIpAddress);
        if (failures.LockedFor(address) is { } wait)
        {
            _lockedFor = wait;
            return Task.FromResult(AuthenticateResult.Fail("Too many failed client authentications from this address."));
        }
        if (Credentials(header.AsSpan(SchemeName.Length + 1).Trim()) is not ({ } clientId, { } scopes))
        {
            failures.Count(address);
            return Task.FromResult(AuthenticateResult.Fail("The client credentials are not valid."));
        }
        var identity = new ClaimsIdentity([new Claim(ClientIdClaim, clientId), .. scopes.Select(s => new Claim(ClientScopes.ClaimType, s))], SchemeName, ClientIdClaim, null);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>base64(id ":" secret), where RFC 6749 2.3.1 has both form-encoded first; taken as sent, too (RFC 7617).</summary>
    private (string ClientId, string[] Scopes)? Credentials(ReadOnlySpan<char> encoded)
    {
        string pair;
        try
        {
            pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded.ToString()));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = pair.IndexOf(':');
        if (colon <= 0)
            return null;
        var (id, secret) = (pair[..colon], pair[(colon + 1)..]);
        foreach (var (clientId, clientSecret) in new[] { (id, secret), (FormDecode(id), FormDecode(secret)) }.Distinct())
            if (clients.Authenticate(clientId, clientSecret) is { } scopes)
                return (clientId, scopes);
        return null;
    }

    private static string FormDecode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_lockedFor is { } wait)
        {
            await Problems.RetryLater(Context, ProblemCatalogue.TooManyAttempts,
                "Too many failed client authentications from this address; retry later.", wait).ExecuteAsync(Context);
            return;
        }
        Response.Headers.WWWAuthenticate = "Basic realm=\"sessions\"";
        await Problems.WriteAsync(Context, ProblemCatalogue.InvalidClient, "Valid client credentials (HTTP Basic) are required.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, ProblemCatalogue.InsufficientScope, "This client lacks the scope this endpoint needs.");
}
