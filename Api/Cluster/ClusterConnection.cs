namespace Sessions.Api.Cluster;

/// <summary>Whether this node has a gateway into the cluster; told by the Orleans client as gateways come and go.</summary>
public sealed class ClusterConnection : IClusterConnectionStatusObserver
{
    private volatile int _gateways;

    public bool IsConnected => _gateways > 0;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        _gateways = currentNumberOfGateways;

    public void NotifyClusterConnectionLost() => _gateways = 0;
}
