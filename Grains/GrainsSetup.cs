using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Sessions.Grains;

public static class GrainsSetup
{
    /// <summary>What the grains need from the host: validated options, the clock, the MAC and the password hasher.</summary>
    public static IServiceCollection AddSessionGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SessionOptions>, SessionOptionsValidator>();
        services.AddOptions<GrainCollectionOptions>().Configure<IOptions<SessionOptions>>((collection, sessions) =>
            collection.ClassSpecificCollectionAge[typeof(SessionGrain).FullName!] = sessions.Value.SessionCollectionAge);
        services.TryAddKeyedSingleton(SessionClock.Key, TimeProvider.System);
        services.AddSingleton<RefreshTokenMac>();
        services.AddSingleton<DeviceTokens>();
        services.AddMetrics();
        services.AddSingleton<SessionsInstruments>();
        services.Configure<PasswordHasherOptions>(configuration.GetSection(PasswordHashingOptions.Section));
        services.AddOptions<PasswordHashingOptions>().Bind(configuration.GetSection(PasswordHashingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordHashingOptions>, PasswordHashingOptionsValidator>();
        services.AddSingleton<IPasswordHasher<UserState>, PasswordHasher<UserState>>();
        services.AddSingleton<PasswordHashing>();
        return services;
    }
}
