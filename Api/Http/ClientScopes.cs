namespace Sessions.Api.Http;

/// <summary>The scopes a backend client may hold; each is also the name of the authorization policy that requires it.</summary>
public static class ClientScopes
{
    public const string Introspect = "introspect", Revoke = "revoke", Admin = "admin";
    public static readonly string[] All = [Introspect, Revoke, Admin];
    public const string ClaimType = "scope";
}
