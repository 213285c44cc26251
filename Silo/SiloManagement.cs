using Orleans.Dashboard;
using Sessions.Hosting;

namespace Sessions.Silo;

public static class SiloManagement
{
    /// <summary>The silo's management listener (default port 8100 + Cluster:Instance): metrics, health, and the dashboard if asked for.</summary>
    public static ManagementOptions AddSiloManagement(this WebApplicationBuilder builder)
    {
        var management = ManagementOptions.From(builder.Configuration, defaultPort: 8100);
        if (management.Port == 0)
            throw new InvalidOperationException("Management:Port must be set on a silo: it is the silo's only HTTP listener.");
        management.Port += ClusterSettings.From(builder.Configuration).Instance;
        builder.AddManagementListener(management, publicListeners: false);
        builder.AddSessionsTelemetry("sessions-silo");
        builder.Services.AddReadinessChecks();
        return management;
    }

    public static WebApplication MapSiloManagement(this WebApplication app, ManagementOptions management)
    {
        app.MapHealth();
        return app.MapManagement(management, endpoints =>
        {
            if (management.Dashboard)
                endpoints.MapOrleansDashboard(routePrefix: "/dashboard");
        });
    }
}
