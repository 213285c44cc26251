using Orleans.Dashboard;
using Sessions.Hosting;

namespace Sessions.Silo;

public static class SiloManagement
{
    /// <summary>The silo's service defaults: its management listener (default port 8100 + Cluster:Instance) is its only HTTP listener.</summary>
    public static ManagementOptions AddSiloManagement(this WebApplicationBuilder builder) =>
        builder.AddServiceDefaults(SessionsProcess.Silo, SessionsMeter.Name);

    /// <summary>Metrics and health, and the dashboard if asked for.</summary>
    public static WebApplication MapSiloManagement(this WebApplication app, ManagementOptions management) =>
        app.MapDefaultEndpoints(management, endpoints =>
        {
            if (management.Dashboard)
                endpoints.MapOrleansDashboard(routePrefix: "/dashboard");
        });
}
