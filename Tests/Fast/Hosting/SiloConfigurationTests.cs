using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sessions.Api;
using Sessions.SiloHosting;

namespace Sessions.Tests;

/// <summary>A silo with bad configuration refuses to start and says what to fix.</summary>
[Layer(Layer.Unit)]
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
        var error = Assert.Throws<OptionsValidationException>(() => Build("Production", With(key, value)));

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("PasswordHashing:Concurrency", "0", "PasswordHashing:Concurrency must be at least 1")]
    [InlineData("Purge:BatchSize", "0", "Purge:BatchSize must be at least 1")]
    [InlineData("Purge:Interval", "00:00:00", "Purge:Interval must be a positive duration")]
    public async Task Invalid_hashing_and_purge_options_stop_the_start(string key, string value, string message)
    {
        using var host = Build("Production", With(key, value));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task A_reuse_grace_window_not_longer_than_the_response_timeout_stops_the_start()
    {
        using var host = Build("Production", With("Sessions:ReuseGraceWindow", "00:00:05"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Sessions:ReuseGraceWindow (00:00:05) must be longer than Cluster:ResponseTimeout (00:00:05)", error.Message);
    }

    [Fact]
    public void A_plain_silo_has_no_api_options_to_hold_the_collection_age_against()
    {
        using var host = Build("Production", With("Sessions:SessionCollectionAge", "00:02:00"));

        Assert.Equal(TimeSpan.FromMinutes(2), host.Services.GetRequiredService<IOptions<Grains.SessionOptions>>().Value.SessionCollectionAge);
    }

    [Fact]
    public async Task A_co_hosted_node_refuses_a_collection_age_within_the_access_token_and_dpop_windows()
    {
        // 15 min access tokens + 60 s DPoP proofs + 2 x 30 s clock skew: 17 min.
        var settings = With("Sessions:SessionCollectionAge", "00:17:00");
        settings["Api:HostsSilo"] = "true";
        settings["Api:KeyEncryptionKey"] = Convert.ToBase64String(new byte[32]);
        settings["Api:Issuer"] = "https://sessions.example";
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddSessionsCluster();
        builder.AddSessionsApi();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Sessions:SessionCollectionAge (00:17:00) must be longer than Api:AccessTokenLifetime + Api:DpopProofLifetime + 2 x Api:ClockSkew (00:17:00)", error.Message);
    }
}
