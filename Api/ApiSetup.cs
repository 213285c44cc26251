using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Serialization;
using Sessions.Api.Endpoints;
using Sessions.Api.Http;
using Sessions.Api.Tokens;

namespace Sessions.Api;

public static class ApiSetup
{
    /// <summary>The PostgreSQL connection string: ConnectionStrings:Sessions (membership in AdoNet mode, and readiness).</summary>
    public const string ConnectionStringName = "Sessions";

    /// <summary>Makes this app an Orleans client of the cluster named in the "Cluster" section.</summary>
    public static WebApplicationBuilder AddSessionsClient(this WebApplicationBuilder builder)
    {
        var cluster = ClusterSettings.From(builder.Configuration);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} must name the PostgreSQL database (environment: ConnectionStrings__{ConnectionStringName}).");

        var connection = new ClusterConnection();
        builder.Services.AddSingleton(connection);
        builder.UseOrleansClient(client =>
        {
            client.AddClusterConnectionStatusObserver(connection);
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = cluster.GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            if (cluster.Clustering == ClusteringMode.AdoNet)
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
            else
                client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId);
            client.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
            client.AddOutgoingGrainCallFilter<RefusedCallRetry>();
            // With no silo reachable the Api still starts, says so on /health/ready, answers 503, and keeps trying.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                return true;
            });
        });
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 2 } }.Build());
        return builder;
    }

    /// <summary>Options, tokens, authentication, limits, problem bodies, health and OpenAPI.</summary>
    public static WebApplicationBuilder AddSessionsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        if (builder.Environment.IsDevelopment())
            services.PostConfigure<ApiOptions>(o => o.KeyEncryptionKey ??= KeyEncryption.DevelopmentKey());
        var bodyLimit = builder.Configuration.GetValue($"{ApiOptions.Section}:{nameof(ApiOptions.MaxRequestBodyBytes)}", new ApiOptions().MaxRequestBodyBytes);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = bodyLimit);

        services.TryAddKeyedSingleton(SessionClock.Key, TimeProvider.System);
        services.AddSingleton<KeyEncryption>();
        services.AddSingleton<SigningKeys>();
        services.AddHostedService<SigningKeyRefresher>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<RefreshTokenTransport>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, AccessTokenValidation>();
        services.AddAuthorization();

        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(AuthApi.LoginPolicy, http => PerAddress(http, o => o.LoginsPerMinutePerAddress));
            limiter.AddPolicy(AuthApi.RegisterPolicy, http => PerAddress(http, o => o.RegistrationsPerMinutePerAddress));
            limiter.AddPolicy(AuthApi.RefreshPolicy, http => PerAddress(http, o => o.RefreshesPerMinutePerAddress));
            limiter.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                return new ValueTask(Problems.RetryLater(context.HttpContext, StatusCodes.Status429TooManyRequests, Problems.TooManyAttempts,
                    "Too many requests from this address; retry later.", retryAfter).ExecuteAsync(context.HttpContext));
            };
        });

        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            // Framework answers (unknown route, wrong method) get an error code like ours.
            context.ProblemDetails.Extensions.TryAdd("error", context.ProblemDetails.Status switch
            {
                404 => Problems.NotFound,
                >= 500 => Problems.InternalError,
                _ => Problems.InvalidRequest,
            });
        });
        services.AddExceptionHandler<ExceptionMapping>();

        services.AddHealthChecks()
            .AddCheck<ClusterHealthCheck>("cluster", tags: [Health.Ready])
            .AddCheck<DatabaseHealthCheck>("database", tags: [Health.Ready])
            .AddCheck<SigningKeyHealthCheck>("signing-keys", tags: [Health.Ready]);
        services.AddOpenApi();
        return builder;
    }

    private static RateLimitPartition<string> PerAddress(HttpContext http, Func<ApiOptions, int> permits)
    {
        var limit = permits(http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value);
        return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
    }
}
