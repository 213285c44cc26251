using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sessions.Grains;

public static class GrainServices
{
    /// <summary>
    /// Key of the clock the session rules run on. Keyed so a test can move session time without
    /// moving Orleans' own timers, which use the unkeyed TimeProvider.
    /// </summary>
    public const string ClockKey = "Sessions.Clock";

    /// <summary>What the grains need from the host: validated options, the clock, the MAC and the password hasher.</summary>
    public static IServiceCollection AddSessionGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SessionOptions>, SessionOptionsValidator>();
        services.TryAddKeyedSingleton(ClockKey, TimeProvider.System);
        services.AddSingleton<RefreshTokenMac>();
        services.AddSingleton<IPasswordHasher<UserState>, PasswordHasher<UserState>>();
        return services;
    }
}
