namespace Sessions.Tests.Infrastructure;

public static class TestSteps
{
    public const string Password = "correct horse battery";

    /// <summary>Registers a fresh user and logs in once; returns the first grant.</summary>
    public static async Task<SessionGrant> NewSessionAsync(this IGrainFactory grains, string? email = null)
    {
        email ??= $"user-{Guid.NewGuid():N}@example.com";
        var index = grains.GetGrain<IEmailIndexGrain>(EmailIndex.KeyFor(email));
        var registration = await index.RegisterAsync(Password);
        Assert.True(registration.Registered);
        var login = await index.LoginAsync(Password, new ClientInfo("xunit", "127.0.0.1"));
        Assert.Equal(LoginStatus.Succeeded, login.Status);
        return login.Grant!;
    }

    public static ISessionGrain Session(this IGrainFactory grains, SessionGrant grant) =>
        grains.GetGrain<ISessionGrain>(grant.SessionId);

    public static Task<RefreshResult> RefreshAsync(this IGrainFactory grains, string refreshToken)
    {
        // As the Api routes it: the session id comes out of the token itself.
        Assert.True(RefreshToken.TryParse(refreshToken, out var token));
        return grains.GetGrain<ISessionGrain>(token.SessionId).RefreshAsync(refreshToken);
    }

    public static async Task<string> RotateAsync(this IGrainFactory grains, string refreshToken)
    {
        var result = await grains.RefreshAsync(refreshToken);
        Assert.Equal(RefreshStatus.Rotated, result.Status);
        return result.Grant!.RefreshToken;
    }
}
