namespace Sessions.Tests.Fixtures;

public static class TestSteps
{
    public const string Password = "correct horse battery";
    public static readonly ClientInfo Client = new("xunit", "127.0.0.1");
    /// <summary>For grain calls made straight from a test, which waits as long as it takes.</summary>
    public static readonly DateTimeOffset NoDeadline = DateTimeOffset.MaxValue;

    /// <summary>A registration from a test, which waits as long as it takes.</summary>
    /// <summary>A well-formed refresh token for <paramref name="sessionId"/> whose MAC is zeros: it verifies nowhere.</summary>
    public static string ForgedRefreshToken(Guid sessionId, long counter = 0)
    {
        Span<byte> signed = stackalloc byte[RefreshToken.SignedLength];
        RefreshToken.WriteSignedPart(signed, sessionId, counter);
        return RefreshToken.Format(signed, new byte[RefreshToken.MacLength]);
    }

    public static RegistrationAttempt Registration(string password = Password) => new(password, NoDeadline);

    /// <summary>Registers a fresh user with <see cref="Password"/>; returns its email index entry, where logins go.</summary>
    public static async Task<IEmailIndexGrain> NewAccountAsync(this IGrainFactory grains, string? email = null)
    {
        var index = grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email ?? $"user-{Guid.NewGuid():N}@example.com"));
        Assert.True((await index.RegisterAsync(Registration())).Registered);
        return index;
    }

    /// <summary>Registers a fresh user and logs in once; returns the first grant.</summary>
    public static async Task<SessionGrant> NewSessionAsync(this IGrainFactory grains, string? email = null)
    {
        var index = await grains.NewAccountAsync(email);
        var login = await index.LoginAsync(Password, new ClientInfo("xunit", "127.0.0.1"));
        Assert.Equal(LoginStatus.Succeeded, login.Status);
        return login.Grant!;
    }

    /// <summary>A login attempt from a test, which waits as long as it takes.</summary>
    public static Task<LoginResult> LoginAsync(this IEmailIndexGrain index, string password, ClientInfo client) =>
        index.LoginAsync(new LoginAttempt(password, client, NoDeadline));

    public static ISessionGrain Session(this IGrainFactory grains, SessionGrant grant) =>
        grains.GetGrain<ISessionGrain>(grant.SessionId);

    public static Task<RefreshResult> RefreshAsync(this IGrainFactory grains, string refreshToken)
    {
        // As the Api routes it: the session id comes out of the token itself.
        Assert.True(RefreshToken.TryParse(refreshToken, out var token));
        return grains.GetGrain<ISessionGrain>(token.SessionId).RefreshAsync(new RefreshAttempt(refreshToken, Client, NoDeadline));
    }

    public static async Task<string> RotateAsync(this IGrainFactory grains, string refreshToken)
    {
        var result = await grains.RefreshAsync(refreshToken);
        Assert.Equal(RefreshStatus.Rotated, result.Status);
        return result.Grant!.RefreshToken;
    }
}
