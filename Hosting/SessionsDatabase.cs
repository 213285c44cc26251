using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Sessions.Hosting;

/// <summary>The PostgreSQL database of grain state and cluster membership, as both hosts reach it.</summary>
public static class SessionsDatabase
{
    /// <summary>The connection string's name: ConnectionStrings:Sessions.</summary>
    public const string ConnectionStringName = "Sessions";

    /// <summary>The ADO.NET invariant of Orleans' providers; case-sensitive, and clients have no default.</summary>
    public const string Invariant = "Npgsql";

    public static string ConnectionString(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        return string.IsNullOrWhiteSpace(connectionString)
            ? throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} must name the PostgreSQL database (environment: ConnectionStrings__{ConnectionStringName}).")
            : connectionString;
    }

    /// <summary>
    /// The host's own small pool beside the Orleans providers' (readiness checks, the purger): one
    /// statement at a time, so it never competes with grain storage for connections.
    /// </summary>
    public static IServiceCollection AddSmallDataSource(this IServiceCollection services, string connectionString)
    {
        services.TryAddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 2 } }.Build());
        return services;
    }
}
