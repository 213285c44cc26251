using System.Net;
using System.Net.Sockets;

namespace Sessions;

/// <summary>How the limits (docs/http-api.md#rate-limits) tell clients apart by address.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The limiting key of an address: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole
    /// /64, so per-address IPv6 limits would be free to evade), an IPv4-mapped IPv6 address as IPv4.
    /// </summary>
    public static string Key(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    /// <summary>The limiting key of an address as the session records it (text), or "unknown".</summary>
    public static string Key(string? address) => Key(IPAddress.TryParse(address, out var parsed) ? parsed : null);
}
