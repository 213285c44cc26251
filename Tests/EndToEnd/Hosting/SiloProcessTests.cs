namespace Sessions.Tests;

/// <summary>The built Silo process refuses a configuration it cannot run with, at once and saying why.</summary>
[Layer(Layer.EndToEnd)]
public sealed class SiloProcessTests
{
    [Fact]
    public async Task The_silo_process_exits_at_once_naming_both_options_when_the_grace_window_is_too_short()
    {
        using var silo = StartSilo(new() { ["Sessions__ReuseGraceWindow"] = "00:00:03" });

        Assert.NotEqual(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Sessions:ReuseGraceWindow (00:00:03) must be longer than Cluster:ResponseTimeout (00:00:05)", silo.Output);
    }

    [Fact]
    public async Task The_silo_process_runs_with_icu_and_refuses_to_start_without_it()
    {
        var runtimeConfig = Path.Combine(Path.GetDirectoryName(typeof(Sessions.Silo.SiloManagement).Assembly.Location)!, "Silo.runtimeconfig.json");
        Assert.Contains("\"System.Globalization.Invariant\": false", File.ReadAllText(runtimeConfig));

        using var silo = StartSilo(new() { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });

        Assert.NotEqual(0, await silo.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("A silo normalizes emails with ICU", silo.Output);
    }

    /// <summary>The built Silo, with a configuration that is valid but for <paramref name="settings"/>; nothing it needs is reachable.</summary>
    private static ServiceProcess StartSilo(Dictionary<string, string> settings)
    {
        var ports = FreePorts.Consecutive(3);
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Sessions"] = "Host=127.0.0.1;Port=1;Database=none",
            ["Sessions__RefreshTokenPepper"] = Convert.ToBase64String(new byte[32]),
            ["Cluster__SiloPort"] = ports.ToString(CultureInfo.InvariantCulture),
            ["Cluster__GatewayPort"] = (ports + 1).ToString(CultureInfo.InvariantCulture),
            ["Management__Port"] = (ports + 2).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
            environment[key] = value;
        return ServiceProcess.Start("Silo", environment);
    }
}
