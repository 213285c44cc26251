using Orleans.Dashboard;
using Sessions.SiloHosting;

namespace Sessions.Silo;

// A Main of its own rather than top-level statements: the Web SDK would make a second global Program type
// beside the Api's, which the tests reference both.
internal static class Program
{
    private static async Task Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var management = builder.AddSiloManagement();
        builder.AddSessionsSilo(silo =>
        {
            if (management.Dashboard)
                silo.AddDashboard();
        });

        var app = builder.Build();
        app.MapSiloManagement(management);
        await app.RunAsync();
    }
}
