using Microsoft.Extensions.Configuration;

namespace Sessions;

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

    public int SiloPortForInstance => SiloPort + Instance;
    public int GatewayPortForInstance => GatewayPort + Instance;

    public static ClusterSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<ClusterSettings>() ?? new ClusterSettings();
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(settings.ClusterId)) errors.Add("Cluster:ClusterId must be set.");
        if (string.IsNullOrWhiteSpace(settings.ServiceId)) errors.Add("Cluster:ServiceId must be set.");
        if (settings.Instance is < 0 or > 999) errors.Add($"Cluster:Instance must be between 0 and 999 (it is {settings.Instance}).");
        if (settings.SiloPortForInstance is < 1 or > 65535 || settings.GatewayPortForInstance is < 1 or > 65535)
            errors.Add("Cluster:SiloPort and Cluster:GatewayPort (plus Cluster:Instance) must be TCP ports.");
        if (!System.Net.IPAddress.TryParse(settings.AdvertisedAddress, out _))
            errors.Add($"Cluster:AdvertisedAddress must be an IP address (it is \"{settings.AdvertisedAddress}\").");
        return errors.Count == 0 ? settings : throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
    }
}
