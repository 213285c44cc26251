using System.Net;
using System.Net.Sockets;

namespace Sessions.Tests.Fixtures;

public static class FreePorts
{
    private const int Lowest = 10000;

    /// <summary>
    /// The first of <paramref name="count"/> consecutive loopback ports that are free now, outside the kernel's
    /// ephemeral range: a process restarted on its old port must find it free, and the ephemeral range is where
    /// every outgoing connection on the machine (to PostgreSQL, between silos) takes its local port meanwhile.
    /// </summary>
    public static int Consecutive(int count)
    {
        var (ephemeralLow, ephemeralHigh) = EphemeralRange();
        var below = Math.Max(0, ephemeralLow - Lowest - count);
        var above = Math.Max(0, IPEndPoint.MaxPort - ephemeralHigh - count);
        if (below + above == 0)
            throw new InvalidOperationException($"No ports outside the ephemeral range {ephemeralLow}-{ephemeralHigh}.");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var pick = Random.Shared.Next(below + above);
            var start = pick < below ? Lowest + pick : ephemeralHigh + 1 + (pick - below);
            if (Enumerable.Range(start, count).All(IsFree))
                return start;
        }
        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    /// <summary>Linux's net.ipv4.ip_local_port_range; its default where it cannot be read.</summary>
    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(range[0], CultureInfo.InvariantCulture), int.Parse(range[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999);
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
