using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sessions.Hosting;

namespace Sessions.Tests;

/// <summary>A silo with bad configuration refuses to start and says what to fix.</summary>
public sealed class SiloConfigurationTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["ConnectionStrings:Sessions"] = "Host=127.0.0.1;Port=1;Database=none",
        ["Sessions:RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
    };

    private static IHost Build(string environment, Dictionary<string, string?> settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSessionsSilo();
        return builder.Build();
    }

    private static Dictionary<string, string?> With(string key, string? value) => new(Valid) { [key] = value };

    [Fact]
    public async Task Outside_development_a_missing_refresh_token_pepper_stops_the_start()
    {
        using var host = Build("Production", With("Sessions:RefreshTokenPepper", null));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Sessions:RefreshTokenPepper must be set", error.Message);
    }

    [Fact]
    public async Task Invalid_lifetimes_and_limits_stop_the_start_with_every_problem_named()
    {
        var settings = With("Sessions:SessionIdleTimeout", "-00:00:01");
        settings["Sessions:MaxFailedLogins"] = "0";
        using var host = Build("Production", settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Sessions:SessionIdleTimeout must be a positive duration", error.Message);
        Assert.Contains("Sessions:MaxFailedLogins must be at least 1", error.Message);
    }

    [Fact]
    public void A_missing_connection_string_is_named_with_its_environment_variable()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build("Production", With("ConnectionStrings:Sessions", null)));

        Assert.Contains("ConnectionStrings__Sessions", error.Message);
    }

    [Fact]
    public void Failover_settings_reach_orleans()
    {
        var settings = With("Cluster:ProbeTimeout", "00:00:03");
        settings["Cluster:NumMissedProbesLimit"] = "4";
        settings["Cluster:ResponseTimeout"] = "00:00:10";
        using var host = Build("Production", settings);

        var membership = host.Services.GetRequiredService<IOptions<Orleans.Configuration.ClusterMembershipOptions>>().Value;
        Assert.Equal((TimeSpan.FromSeconds(3), 4), (membership.ProbeTimeout, membership.NumMissedProbesLimit));
        Assert.Equal(TimeSpan.FromSeconds(10), host.Services.GetRequiredService<IOptions<Orleans.Configuration.SiloMessagingOptions>>().Value.ResponseTimeout);
    }

    [Theory]
    [InlineData("Cluster:NumMissedProbesLimit", "0", "Cluster:NumMissedProbesLimit must be at least 1")]
    [InlineData("Cluster:ResponseTimeout", "00:00:00", "Cluster:ProbeTimeout, Cluster:GatewayListRefreshPeriod and Cluster:ResponseTimeout must be positive")]
    [InlineData("Cluster:AdvertisedAddress", "not-an-ip", "Cluster:AdvertisedAddress must be an IP address")]
    [InlineData("Cluster:Instance", "-1", "Cluster:Instance must be between 0 and 999")]
    public void Invalid_cluster_settings_are_refused(string key, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build("Production", With(key, value)));

        Assert.Contains(message, error.Message);
    }
}
