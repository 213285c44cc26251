using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Sessions.Hosting;

public enum ClusteringMode
{
    /// <summary>One silo on loopback, for development.</summary>
    Localhost,
    /// <summary>Membership in PostgreSQL through Orleans' ADO.NET clustering, for a real cluster.</summary>
    AdoNet,
}

/// <summary>How silos and clients (the Api) find their cluster: the "Cluster" configuration section, shared by both.</summary>
public sealed class ClusterSettings
{
    public const string Section = "Cluster";

    public ClusteringMode Clustering { get; set; } = ClusteringMode.Localhost;
    public string ClusterId { get; set; } = "sessions-dev";
    public string ServiceId { get; set; } = "sessions";
    /// <summary>Offsets both ports, so several silos can run on one host.</summary>
    public int Instance { get; set; }
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    // Failover. Faster than Orleans' defaults (5 s, 3, 1 min, 30 s) so that a crashed or hung silo is over
    // for every client inside the 10 s reuse grace window: a client whose rotation was stored by a silo that
    // died before answering retries its previous token, and only a replay inside the window keeps it logged in.
    /// <summary>Silos: how long a probe of another silo may take before it counts as missed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Silos: missed probes before a silo is suspected.</summary>
    public int NumMissedProbesLimit { get; set; } = 2;
    /// <summary>Clients (the Api): how often the gateway list is re-read from membership.</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Silos and clients: how long a grain call may wait for its answer.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public int SiloPortForInstance => SiloPort + Instance;
    public int GatewayPortForInstance => GatewayPort + Instance;

    /// <summary>The "Cluster" section, checked by <see cref="ClusterSettingsValidator"/>; needed while the host is built.</summary>
    public static ClusterSettings From(IConfiguration configuration) =>
        BuildTimeOptions.Bind(configuration.GetSection(Section), new ClusterSettingsValidator(), new ClusterSettings());
}

public sealed class ClusterSettingsValidator : IValidateOptions<ClusterSettings>
{
    public ValidateOptionsResult Validate(string? name, ClusterSettings settings)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(settings.ClusterId)) errors.Add("Cluster:ClusterId must be set.");
        if (string.IsNullOrWhiteSpace(settings.ServiceId)) errors.Add("Cluster:ServiceId must be set.");
        if (settings.Instance is < 0 or > 999) errors.Add($"Cluster:Instance must be between 0 and 999 (it is {settings.Instance}).");
        if (settings.SiloPortForInstance is < 1 or > 65535 || settings.GatewayPortForInstance is < 1 or > 65535)
            errors.Add("Cluster:SiloPort and Cluster:GatewayPort (plus Cluster:Instance) must be TCP ports.");
        if (settings.ProbeTimeout <= TimeSpan.Zero || settings.GatewayListRefreshPeriod <= TimeSpan.Zero || settings.ResponseTimeout <= TimeSpan.Zero)
            errors.Add("Cluster:ProbeTimeout, Cluster:GatewayListRefreshPeriod and Cluster:ResponseTimeout must be positive durations.");
        if (settings.NumMissedProbesLimit < 1)
            errors.Add($"Cluster:NumMissedProbesLimit must be at least 1 (it is {settings.NumMissedProbesLimit}).");
        if (!System.Net.IPAddress.TryParse(settings.AdvertisedAddress, out _))
            errors.Add($"Cluster:AdvertisedAddress must be an IP address (it is \"{settings.AdvertisedAddress}\").");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
