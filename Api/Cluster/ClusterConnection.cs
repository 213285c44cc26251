namespace Sessions.Api.Cluster;

/// <summary>Whether this node has a gateway into the cluster; told by the Orleans client as gateways come and go.</summary>
public sealed class ClusterConnection : IClusterConnectionStatusObserver
{
    private volatile int _gateways;

    /// <summary>A node that hosts its own silo is its own gateway for as long as it runs.</summary>
    public static ClusterConnection InProcess() => new() { _gateways = 1 };

    public bool IsConnected => _gateways > 0;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        _gateways = currentNumberOfGateways;

    public void NotifyClusterConnectionLost() => _gateways = 0;
}
