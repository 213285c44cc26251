using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Sessions.Storage;

public static class StorageSetup
{
    /// <summary>Configuration key: whether grain-state reads and writes that arrive together share round trips (default true).</summary>
    public const string BatchingKey = "Storage:Batching";

    /// <summary>The former name of <see cref="BatchingKey"/>, still read when that is not set.</summary>
    public const string CoalesceWritesKey = "Storage:CoalesceWrites";

    // Orleans' ADO.NET providers name Npgsql so; case-sensitive.
    private const string Invariant = "Npgsql";

    /// <summary><see cref="BatchingKey"/>, else its former name <see cref="CoalesceWritesKey"/>, else true.</summary>
    public static bool Batching(IConfiguration configuration) =>
        configuration.GetValue<bool?>(BatchingKey) ?? configuration.GetValue(CoalesceWritesKey, true);

    /// <summary>
    /// Grain storage <paramref name="name"/> in PostgreSQL, in our compact payload format: Orleans' ADO.NET provider,
    /// and in front of it, unless <paramref name="batching"/> is false, <see cref="BatchingGrainStorage"/>, which sends
    /// concurrent reads in one round trip and commits concurrent writes together. Both use the same rows, so silos of
    /// either kind share one database.
    /// </summary>
    public static ISiloBuilder AddSessionsStorage(this ISiloBuilder silo, string name, string connectionString, bool batching = true)
    {
        var adoNetName = batching ? name + "-adonet" : name;
        silo.AddAdoNetGrainStorage(adoNetName, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
            o.GrainStorageSerializer = new StateSerializer(serializer);
            // A deleted account leaves no row behind: the email index's key is the email itself.
            o.DeleteStateOnClear = true;
        }));
        if (batching)
        {
            silo.Services.AddMetrics();
            silo.Services.TryAddSingleton<StorageInstruments>();
            silo.Services.AddGrainStorage(name, (services, storageName) => new BatchingGrainStorage(
                storageName,
                services.GetRequiredKeyedService<IGrainStorage>(adoNetName),
                // One connection carries the write batches and one the read batches; the others replace them at once if they break.
                new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 4 } }.Build(),
                services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                new StateSerializer(services.GetRequiredService<Serializer>()),
                services.GetRequiredService<IActivatorProvider>(),
                services.GetRequiredService<StorageInstruments>(),
                services.GetRequiredService<ILogger<BatchingGrainStorage>>()));
        }
        return silo;
    }

    /// <summary>The purge of expired and revoked grain state; it runs on the host's NpgsqlDataSource (its small pool).</summary>
    public static IServiceCollection AddStatePurger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PurgeOptions>().Bind(configuration.GetSection(PurgeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PurgeOptions>, PurgeOptionsValidator>();
        services.AddSingleton<StatePurger>();
        services.AddHostedService(sp => sp.GetRequiredService<StatePurger>());
        return services;
    }
}
