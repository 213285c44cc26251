// The xunit collections. xunit 2 finds collection definitions only in the test assembly itself, so each test
// project compiles this file in (it is linked, not part of the Fixtures library).

namespace Sessions.Tests.Fixtures;

[CollectionDefinition(Name)]
public sealed class FaultyStorageCluster : ICollectionFixture<FaultyStorageClusterFixture>
{
    public const string Name = "faulty storage cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresCluster : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres cluster";
}

/// <summary>Timing-sensitive tests run by themselves, after the parallel ones, so other tests' CPU does not stretch failover.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Alone
{
    public const string Name = "alone";
}

[CollectionDefinition(Name)]
public sealed class BrowserCluster : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

// The Api tests in three collections, each on an Api and cluster of its own, so that they run side by side; tests
// of one collection share a fake clock and storage that fails on demand, so they run one at a time.

/// <summary>Login, refresh, logout, access tokens, cookies, framing, keys and readiness.</summary>
[CollectionDefinition(Name)]
public sealed class ApiCluster : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}

/// <summary>DPoP and the backend clients (discovery, introspection, revocation).</summary>
[CollectionDefinition(Name)]
public sealed class ProofApiCluster : ICollectionFixture<ApiFixture>
{
    public const string Name = "api: dpop and backend clients";
}

/// <summary>Accounts: passwords, the admin API, known devices, identities, problem bodies and address limits.</summary>
[CollectionDefinition(Name)]
public sealed class AccountApiCluster : ICollectionFixture<ApiFixture>
{
    public const string Name = "api: accounts";
}

[CollectionDefinition(Name)]
public sealed class MemoryCluster : ICollectionFixture<MemoryClusterFixture>
{
    public const string Name = "memory cluster";
}
