using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.TestingHost;
using Sessions.Grains;
using Sessions.Storage;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A one-silo TestCluster whose session rules run on a fake clock of its own. Subclasses choose
/// the grain storage. Tests in one collection share the cluster and run one at a time.
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

    private static readonly ConcurrentDictionary<string, ClusterFixture> Fixtures = new();
    private readonly string _key = Guid.NewGuid().ToString("N");

    public CapturedLogs Logs { get; } = new();
    public CountingPasswordHasher Passwords { get; } = new();
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public TestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>Stable across clusters of one fixture, so a restarted cluster reads the same rows.</summary>
    public string ServiceId { get; } = "sessions-test-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract void ConfigureStorage(ISiloBuilder silo);

    protected virtual void ConfigureCluster(TestClusterBuilder builder) { }

    protected virtual void ConfigureSilo(ISiloBuilder silo) { }

    public virtual async Task InitializeAsync()
    {
        Fixtures[_key] = this;
        Cluster = await StartClusterAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Fixtures.TryRemove(_key, out _);
    }

    /// <summary>Stops the cluster and starts a new one on the same storage: every grain reads its state again.</summary>
    public async Task RestartClusterAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Cluster = await StartClusterAsync();
    }

    private async Task<TestCluster> StartClusterAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = ServiceId;
        builder.Properties["FixtureKey"] = _key;
        builder.AddSiloBuilderConfigurator<Configurator>();
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

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var fixture = Fixtures[silo.Configuration["FixtureKey"]!];
            silo.Services.AddKeyedSingleton<TimeProvider>(SessionClock.Key, fixture.Clock);
            silo.Services.AddSingleton<ILoggerProvider>(fixture.Logs);
            silo.Services.AddSessionGrains(SessionSettings());
            silo.Services.AddSingleton<IPasswordHasher<UserState>>(fixture.Passwords);
            fixture.ConfigureStorage(silo);
            silo.AddActivityPropagation();
            fixture.ConfigureSilo(silo);
        }
    }
}

/// <summary>Grain state in silo memory, through the same payload serializer as production.</summary>
public sealed class MemoryClusterFixture : ClusterFixture
{
    protected override void ConfigureStorage(ISiloBuilder silo) =>
        silo.AddMemoryGrainStorage(StorageNames.Grains, options => options.Configure<Serializer>(
            (o, serializer) => o.GrainStorageSerializer = new StateSerializer(serializer)));
}

