using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Sessions.SiloHosting;

namespace Sessions.Tests;

/// <summary>
/// Two silos built exactly as Silo/Program.cs builds them, in AdoNet clustering mode, and a client
/// that finds them through the same membership table: our membership SQL under real Orleans.
/// </summary>
[Layer(Layer.Grains)]
public sealed class ClusterMembershipTests : IAsyncLifetime
{
    private readonly string _clusterId = "cluster-" + Guid.NewGuid().ToString("N")[..8];
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Two_silos_join_through_postgres_and_sessions_move_to_the_survivor_when_one_leaves()
    {
        var basePort = FreePorts.Consecutive(4); // two silo ports, then two gateway ports
        using var first = SiloHost(instance: 0, basePort);
        using var second = SiloHost(instance: 1, basePort);
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        using var client = ClientHost();
        await client.StartAsync();
        var grains = client.Services.GetRequiredService<IClusterClient>();

        Assert.Equal(2, await ActiveSilosAsync());
        var tokens = new List<string>();
        for (var i = 0; i < 20; i++)
            tokens.Add(await grains.RotateAsync((await grains.NewSessionAsync()).RefreshToken));

        await second.StopAsync();
        Assert.Equal(1, await ActiveSilosAsync());
        Assert.Equal(1, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM membership WHERE deploymentid = $1 AND status = 6", _clusterId));

        // Every session, wherever it lived, continues on the survivor from its stored state.
        foreach (var token in tokens)
            Assert.Equal(RefreshStatus.Rotated, (await RefreshWithRetryAsync(grains, token)).Status);

        await client.StopAsync();
        await first.StopAsync();
    }

    private async Task<long> ActiveSilosAsync() =>
        await _database.ScalarAsync<long>("SELECT count(*) FROM membership WHERE deploymentid = $1 AND status = 3", _clusterId);

    private static async Task<RefreshResult> RefreshWithRetryAsync(IGrainFactory grains, string token)
    {
        // A call in flight to the silo that left may fail once while the client drops its gateway.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.RefreshAsync(token);
            }
            catch (Exception) when (attempt < 10)
            {
                await Task.Delay(500);
            }
        }
    }

    private IHost SiloHost(int instance, int basePort)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sessions"] = _database.ConnectionString,
            ["Cluster:Clustering"] = "AdoNet",
            ["Cluster:ClusterId"] = _clusterId,
            ["Cluster:ServiceId"] = _clusterId,
            ["Cluster:Instance"] = instance.ToString(CultureInfo.InvariantCulture),
            ["Cluster:SiloPort"] = basePort.ToString(CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = (basePort + 2).ToString(CultureInfo.InvariantCulture),
        });
        builder.Configuration.AddConfiguration(ClusterFixture.SessionSettings());
        builder.AddSessionsSilo();
        return builder.Build();
    }

    private IHost ClientHost()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (_clusterId, _clusterId));
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = _database.ConnectionString;
            });
        });
        return builder.Build();
    }
}
