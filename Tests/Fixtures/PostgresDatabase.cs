using Npgsql;

namespace Sessions.Tests.Fixtures;

/// <summary>
/// A throwaway database on the project's PostgreSQL (scripts/postgres.sh, which the README test
/// command starts), with sql/schema.sql applied twice to prove it is idempotent.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    /// <summary>Where the server is: SESSIONS_TEST_POSTGRES, or the private instance's default address.</summary>
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("SESSIONS_TEST_POSTGRES") is { Length: > 0 } configured
            ? configured
            : "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres";

    public static string SchemaSql => File.ReadAllText(Path.Combine(Repository.Root, "sql", "schema.sql"));

    private readonly string _server;

    private PostgresDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Creates the database on <paramref name="server"/>, by default the shared <see cref="ServerConnectionString"/>.</summary>
    public static async Task<PostgresDatabase> CreateAsync(string? server = null)
    {
        server ??= ServerConnectionString;
        var name = "sessions_test_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(server);
            await dataSource.CreateCommand($"CREATE DATABASE {name}").ExecuteNonQueryAsync();
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at \"{server}\". Run the tests with scripts/test.sh, " +
                "which starts the project's private instance, or set SESSIONS_TEST_POSTGRES.", e);
        }
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 20 };
        var database = new PostgresDatabase(server, name, builder.ConnectionString);
        await database.ApplySchemaAsync();
        await database.ApplySchemaAsync();
        return database;
    }

    public async Task ApplySchemaAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await new NpgsqlCommand(SchemaSql, connection, transaction).ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = DataSource.CreateCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var server = NpgsqlDataSource.Create(_server);
        await server.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)").ExecuteNonQueryAsync();
    }
}
