using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.TestingHost;
using Sessions.Grains;
using Sessions.Storage;

namespace Sessions.Tests.Infrastructure;

/// <summary>
/// A one-silo in-process test cluster (Orleans' InProcessTestClusterBuilder) whose session rules run on a fake clock
/// of its own. Subclasses choose the grain storage. Tests in one collection share the cluster and run one at a time.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan GraceWindow = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(24);
    public static readonly TimeSpan AbsoluteLifetime = TimeSpan.FromDays(7);
    public const int MaxFailedLogins = 3;
    public const int MaxFailedLoginsPerAccount = 6;
    public const int MaxActiveSessions = 5;
    public static readonly TimeSpan FailedLoginWindow = TimeSpan.FromMinutes(15);

    public CapturedLogs Logs { get; } = new();
    public CountingPasswordHasher Passwords { get; } = new();
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>The services of the (one) silo.</summary>
    public IServiceProvider Silo => Cluster.Silos[0].ServiceProvider;

    /// <summary>Stable across clusters of one fixture, so a restarted cluster reads the same rows.</summary>
    public string ServiceId { get; } = "sessions-test-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract void ConfigureStorage(ISiloBuilder silo);

    protected virtual void ConfigureCluster(InProcessTestClusterBuilder builder) { }

    protected virtual void ConfigureSilo(ISiloBuilder silo) { }

    public virtual async Task InitializeAsync() => Cluster = await StartClusterAsync();

    public virtual async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Stops the cluster and starts a new one on the same storage: every grain reads its state again.</summary>
    public async Task RestartClusterAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Cluster = await StartClusterAsync();
    }

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = ServiceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<TimeProvider>(SessionClock.Key, Clock);
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
            silo.Services.AddSessionGrains(SessionSettings());
            silo.Services.AddSingleton<IPasswordHasher<UserState>>(Passwords);
            ConfigureStorage(silo);
            silo.AddActivityPropagation();
            ConfigureSilo(silo);
        });
        ConfigureCluster(builder);
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static IConfiguration SessionSettings() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Sessions:ReuseGraceWindow"] = GraceWindow.ToString(),
        ["Sessions:SessionIdleTimeout"] = IdleTimeout.ToString(),
        ["Sessions:SessionAbsoluteLifetime"] = AbsoluteLifetime.ToString(),
        ["Sessions:MaxFailedLogins"] = MaxFailedLogins.ToString(CultureInfo.InvariantCulture),
        ["Sessions:MaxFailedLoginsPerAccount"] = MaxFailedLoginsPerAccount.ToString(CultureInfo.InvariantCulture),
        ["Sessions:MaxActiveSessions"] = MaxActiveSessions.ToString(CultureInfo.InvariantCulture),
        ["Sessions:FailedLoginWindow"] = FailedLoginWindow.ToString(),
        ["Sessions:RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
    }).Build();
}

/// <summary>Grain state in silo memory, through the same payload serializer as production.</summary>
public sealed class MemoryClusterFixture : ClusterFixture
{
    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.AddMemoryGrainStorage(StorageNames.Grains, options => options.Configure<Serializer>(
            (o, serializer) => o.GrainStorageSerializer = new StateSerializer(serializer)));
}

[CollectionDefinition(Name)]
public sealed class MemoryCluster : ICollectionFixture<MemoryClusterFixture>
{
    public const string Name = "memory cluster";
}
