using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Orleans.Configuration;
using Sessions.Api.Admin;
using Sessions.Api.Cluster;
using Sessions.Api.Dpop;
using Sessions.Api.Email;
using Sessions.Api.Health;
using Sessions.Api.Http;
using Sessions.Api.Keys;
using Sessions.Api.OAuth;
using Sessions.Api.Tokens;
using Sessions.Hosting;
using Sessions.SiloHosting;

namespace Sessions.Api;

public static class ApiSetup
{
    /// <summary>The OpenAPI document's title, and the page title of its reference at /scalar.</summary>
    public const string OpenApiTitle = "Sessions HTTP API";

    /// <summary>Joins the cluster named in the "Cluster" section: as a client of separate silos, or as a silo itself (Api:HostsSilo).</summary>
    public static WebApplicationBuilder AddSessionsCluster(this WebApplicationBuilder builder)
    {
        if (!builder.Configuration.GetValue<bool>($"{ApiOptions.Section}:{nameof(ApiOptions.HostsSilo)}"))
            return builder.AddSessionsClient();
        builder.Services.AddSingleton(ClusterConnection.InProcess());
        // Only a co-hosted node has both sections to relate.
        builder.Services.AddSingleton<IValidateOptions<Grains.SessionOptions>, SessionCollectionAgeValidator>();
        builder.AddSessionsSilo(silo => silo.AddOutgoingGrainCallFilter<RefusedCallRetry>());
        return builder;
    }

    /// <summary>Makes this app an Orleans client of the cluster named in the "Cluster" section.</summary>
    public static WebApplicationBuilder AddSessionsClient(this WebApplicationBuilder builder)
    {
        var (cluster, connectionString) = builder.AddSessionsDefaults();

        var connection = new ClusterConnection();
        builder.Services.AddSingleton(connection);
        builder.UseOrleansClient(client =>
        {
            client.AddClusterConnectionStatusObserver(connection);
            client.Services.AddClusterIdentity(cluster);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = cluster.GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            if (cluster.Clustering == ClusteringMode.AdoNet)
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = SessionsDatabase.Invariant;
                    o.ConnectionString = connectionString;
                });
            else
                client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId);
            client.AddOutgoingGrainCallFilter<RefusedCallRetry>();
            client.AddActivityPropagation();
            // With no silo reachable the Api still starts, says so on /health/ready, answers 503, and keeps trying.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                return true;
            });
        });
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        return builder;
    }

    /// <summary>The Api's service defaults: telemetry, and its management listener (default port 8090) off the public listeners.</summary>
    public static ManagementOptions AddApiManagement(this WebApplicationBuilder builder) =>
        builder.AddServiceDefaults(SessionsProcess.Api, SessionsMeter.Name);

    /// <summary>Options, tokens, authentication, limits, problem bodies, health and OpenAPI.</summary>
    public static WebApplicationBuilder AddSessionsApi(this WebApplicationBuilder builder)
    {
        // Accounts are keyed by the NFKC form of the email, and .NET normalizes only with ICU.
        if (!Credentials.CanNormalizeEmails)
            throw new InvalidOperationException("The Api normalizes emails with ICU: it must run without invariant globalization, with libicu installed.");
        var services = builder.Services;
        services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<ApiOptions>, IssuerDefault>();
        if (builder.Environment.IsDevelopment())
            services.PostConfigure<ApiOptions>(o => o.KeyEncryptionKey ??= KeyEncryption.DevelopmentKey());
        var bodyLimit = builder.Configuration.GetValue($"{ApiOptions.Section}:{nameof(ApiOptions.MaxRequestBodyBytes)}", new ApiOptions().MaxRequestBodyBytes);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = bodyLimit;
            kestrel.AddServerHeader = false;
        });

        services.TryAddKeyedSingleton(SessionClock.Key, TimeProvider.System);
        services.AddSingleton<KeyEncryption>();
        services.AddSingleton<SigningKeys>();
        services.AddHostedService<SigningKeyRefresher>();
        services.AddSingleton<ApiInstruments>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<GrainCalls>();
        services.AddSingleton<RefreshTokenTransport>();
        services.AddSingleton<DpopProofValidator>();

        // No default authenticate scheme (ASP.NET Core would make the only scheme the default): a token is checked only
        // where an endpoint asks for one, as the default policy names the scheme, so an Authorization header sent
        // anywhere else costs no signature check and is not counted against the access-token limit.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        var authorization = services.AddAuthorizationBuilder().SetDefaultPolicy(new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser().Build());
        BackendClientAuthentication.AddPolicies(authorization);
        services.AddAuthentication(o => o.DefaultChallengeScheme = JwtBearerDefaults.AuthenticationScheme).AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, BackendClientAuthentication>(BackendClientAuthentication.SchemeName, null)
            .AddAdminCallers(authorization);
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, AccessTokenValidation>();
        services.AddSingleton<BackendClients>();
        services.AddSingleton<FailedClientAuthentications>();

        services.AddOptions<EmailOptions>().Bind(builder.Configuration.GetSection(EmailOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<EmailOptions>, EmailDefaults>();
        services.AddSingleton<MailOutbox>();
        services.AddHostedService(provider => provider.GetRequiredService<MailOutbox>());

        services.AddBrowserAccess();
        services.AddRateLimits();

        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = Problems.Complete);
        services.AddExceptionHandler<ExceptionMapping>();

        services.AddApiReadinessChecks();
        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, context, _) =>
        {
            document.Info.Title = OpenApiTitle;
            document.Info.Version = typeof(ApiSetup).Assembly.GetName().Version?.ToString(2) ?? document.Info.Version;
            // Not from the Host header, which the client chooses: the public URL when configured, else relative to wherever the document was found.
            var publicBase = context.ApplicationServices.GetRequiredService<IOptions<ApiOptions>>().Value.PublicBaseUrl;
            document.Servers = ApiOptions.ParsePublicBaseUrl(publicBase) is { } url ? [new OpenApiServer { Url = url.ToString().TrimEnd('/') }] : [];
            return Task.CompletedTask;
        }));
        return builder;
    }
}
